"""Fixtures of the robot tests: the test knowledge base and its recogniser
(jieba's dictionary loads once per session: about a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def kb_path() -> Path:
    return DATA / "kb.yaml"


@pytest.fixture(scope="session")
def kb(kb_path):
    from robot.knowledge import load_kb

    return load_kb(kb_path)


@pytest.fixture(scope="session")
def ranker(kb):
    from robot.retrieval import FaqRanker

    return FaqRanker(kb)


@pytest.fixture(scope="session")
def recognizer(kb, ranker):
    from robot.nlu import IntentRecognizer

    return IntentRecognizer(kb, ranker=ranker)


@pytest.fixture()
def manager(kb, recognizer):
    from robot.dialogue import DialogueManager

    return DialogueManager(kb, recognizer)
