"""The robot on the demo hall's content (content/demo.py) as a manifest would carry it."""

import pytest


@pytest.fixture(scope="module")
def demo_manager():
    demo = pytest.importorskip("content.demo")
    from robot.dialogue import DialogueManager
    from robot.knowledge import kb_from_items

    kb = kb_from_items(demo.load_demo(None).items)
    if kb.empty:
        pytest.skip("the demo content has no FAQ or exhibits")
    return DialogueManager(kb)


def test_every_demo_question_gets_its_own_answer(demo_manager):
    from robot.dialogue import Session

    for faq in demo_manager.kb.faqs:
        for question in faq.questions:
            reply = demo_manager.respond(question, Session())
            assert reply.answer_id == faq.id or reply.intent == "where", (question, reply.intent, reply.answer_id)


def test_every_demo_exhibit_can_be_visited_by_title(demo_manager):
    from robot.dialogue import Session

    for exhibit in demo_manager.kb.exhibits:
        reply = demo_manager.respond(f"带我去{exhibit.title}", Session())
        assert (reply.intent, reply.exhibit_id) == ("goto", exhibit.id), exhibit.title
