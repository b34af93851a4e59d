"""The threading algorithm the tests check our emails with: it must tell one
thread from several, or the check proves nothing."""

from __future__ import annotations

from tests.support.jwz import Message, base_subject, thread


def ids(container: object) -> list[str]:
    return sorted(m.message_id for m in container.messages())


def test_a_reply_chain_is_one_thread() -> None:
    first = Message("<1@x>", "Plan")
    second = Message("<2@x>", "Re: Plan", references="<1@x>", in_reply_to="<1@x>")
    third = Message("<3@x>", "Re: Plan", references="<1@x> <2@x>")
    [only] = thread([third, first, second])
    assert only.message == first
    assert ids(only) == ["<1@x>", "<2@x>", "<3@x>"]


def test_messages_naming_one_absent_root_are_one_thread_under_a_dummy() -> None:
    replies = [
        Message(f"<{n}@x>", f"Subject {n}", references="<root@x>") for n in range(3)
    ]
    [only] = thread(replies)
    assert only.message is None
    assert ids(only) == ["<0@x>", "<1@x>", "<2@x>"]


def test_different_roots_and_subjects_are_different_threads() -> None:
    one = Message("<1@x>", "A", references="<root-a@x>")
    two = Message("<2@x>", "B", references="<root-b@x>")
    assert len(thread([one, two])) == 2


def test_a_growing_chain_with_a_missing_link_still_threads() -> None:
    one = Message("<1@x>", "A", references="<root@x>")
    three = Message("<3@x>", "A", references="<root@x> <1@x> <2@x>")
    [only] = thread([one, three])
    assert ids(only) == ["<1@x>", "<3@x>"]


def test_same_subject_without_references_is_grouped_only_by_subject() -> None:
    messages = [Message("<1@x>", "Re: A"), Message("<2@x>", "A")]
    assert len(thread(messages)) == 1
    assert len(thread(messages, by_subject=False)) == 2
    assert base_subject("Re: Fwd: RE: A") == "A"


def test_a_reference_loop_does_not_hang_or_lose_messages() -> None:
    one = Message("<1@x>", "A", references="<2@x>")
    two = Message("<2@x>", "A", references="<1@x>")
    threads = thread([one, two])
    assert sorted(m for t in threads for m in ids(t)) == ["<1@x>", "<2@x>"]
