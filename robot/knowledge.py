"""The robot's knowledge base: FAQ entries and exhibits.

It comes from the applied manifest in production (``FaqEntry`` and ``Exhibit``
items) or from a YAML/JSON file that operators edit while tuning::

    faq:
      - id: hours
        questions: [展厅几点开门？, 开放时间是什么？]
        answer: 展厅每周二至周日9:00-17:00开放。
    exhibits:
      - id: zunyi
        title: 遵义会议
        aliases: [遵义会议会址]
        section: 革命征程
    terms: [三会一课, 两学一做]      # optional: extra words for the tokenizer
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml


class KnowledgeError(ValueError):
    """A knowledge-base file that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Faq:
    id: str
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class ExhibitInfo:
    id: str
    title: str
    aliases: tuple[str, ...] = ()
    section: str | None = None
    caption: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)


@dataclass(frozen=True)
class KnowledgeBase:
    faqs: tuple[Faq, ...] = ()
    exhibits: tuple[ExhibitInfo, ...] = ()
    terms: tuple[str, ...] = ()
    source: str = ""
    _by_faq: dict[str, Faq] = field(default_factory=dict, compare=False, repr=False)
    _by_exhibit: dict[str, ExhibitInfo] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_faq.update({f.id: f for f in self.faqs})
        self._by_exhibit.update({e.id: e for e in self.exhibits})

    @property
    def empty(self) -> bool:
        return not self.faqs and not self.exhibits

    def faq(self, faq_id: str | None) -> Faq | None:
        return self._by_faq.get(faq_id) if faq_id else None

    def exhibit(self, exhibit_id: str | None) -> ExhibitInfo | None:
        return self._by_exhibit.get(exhibit_id) if exhibit_id else None

    def vocabulary(self) -> list[str]:
        """Names worth teaching the tokenizer and the recogniser."""
        words = list(self.terms)
        for exhibit in self.exhibits:
            words.extend(exhibit.names)
        return list(dict.fromkeys(w for w in words if w))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{where}: expected a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def kb_from_dict(data: Any, *, source: str = "") -> KnowledgeBase:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KnowledgeError(f"{source or 'knowledge base'}: top level must be a mapping with 'faq' and 'exhibits'")
    faqs, exhibits, seen = [], [], set()
    for index, raw in enumerate(data.get("faq") or []):
        where = f"{source}: faq[{index}]"
        if not isinstance(raw, dict):
            raise KnowledgeError(f"{where}: expected a mapping")
        faq_id = str(raw.get("id") or "").strip()
        questions = _strings(raw.get("questions"), f"{where}.questions")
        answer = str(raw.get("answer") or "").strip()
        if not faq_id or not questions or not answer:
            raise KnowledgeError(f"{where}: needs id, at least one question and an answer")
        if faq_id in seen:
            raise KnowledgeError(f"{where}: duplicate id {faq_id!r}")
        seen.add(faq_id)
        faqs.append(Faq(faq_id, questions, answer))
    for index, raw in enumerate(data.get("exhibits") or []):
        where = f"{source}: exhibits[{index}]"
        if not isinstance(raw, dict):
            raise KnowledgeError(f"{where}: expected a mapping")
        exhibit_id = str(raw.get("id") or "").strip()
        title = str(raw.get("title") or "").strip()
        if not exhibit_id or not title:
            raise KnowledgeError(f"{where}: needs id and title")
        exhibits.append(ExhibitInfo(exhibit_id, title, _strings(raw.get("aliases"), f"{where}.aliases"),
                                    raw.get("section"), str(raw.get("caption") or "")))
    terms = _strings(data.get("terms"), f"{source}: terms")
    return KnowledgeBase(tuple(faqs), tuple(exhibits), terms, source)


def load_kb(path: str | Path) -> KnowledgeBase:
    """Read a YAML or JSON knowledge-base file (JSON is valid YAML, but a .json
    file gets JSON's clearer error messages)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read knowledge base {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from exc
    return kb_from_dict(data, source=str(path))


def kb_from_items(items: Iterable[Any], *, source: str = "manifest", terms: Iterable[str] = ()) -> KnowledgeBase:
    """From content items (``FaqEntry``, ``Exhibit``); other kinds are ignored."""
    faqs, exhibits = [], []
    for item in items:
        kind = getattr(item, "kind", None)
        if kind == "faq":
            faqs.append(Faq(item.id, tuple(item.questions), item.answer))
        elif kind == "exhibit":
            exhibits.append(ExhibitInfo(item.id, item.title, tuple(item.aliases), item.section,
                                        item.caption or item.narration))
    return KnowledgeBase(tuple(faqs), tuple(exhibits), tuple(terms), source)


def kb_from_manifest(manifest: Any) -> KnowledgeBase:
    terms = manifest.settings.get("robot_terms", []) if isinstance(manifest.settings, dict) else []
    return kb_from_items(manifest.items, source=f"manifest v{manifest.version}", terms=terms)
