"""Each kind of email is declared once (notifications/kinds.py): every kind has
its templates, renders in the preview, and the kinds people choose on the
preferences page say what they are there and in the daily digest."""

from __future__ import annotations

import re

import pytest
from django.template.loader import get_template
from django.utils.html import escape

from notifications.kinds import (
    ACCOUNT_KINDS,
    KINDS,
    PREFERENCE_KINDS,
    SCHEDULED_KINDS,
    TASK_KINDS,
    Kind,
    footer_reason,
)
from notifications.previews import (
    SNAPSHOT,
    html_of,
    preheader_of,
    preview,
    sample_reason,
)

EVERY_KIND = Kind.values


def test_every_member_of_kind_is_declared_once_in_its_order() -> None:
    assert list(KINDS) == EVERY_KIND
    assert all(KINDS[kind].kind == kind for kind in EVERY_KIND)


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_kind_has_its_subject_and_body_templates(kind: str) -> None:
    declared = KINDS[kind]
    template = declared.template
    for name in (declared.subject, f"{template}.txt", f"{template}.html"):
        get_template(f"notifications/email/{name}")  # raises when it is missing


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_kind_renders_in_the_preview_with_its_footer_reason(kind: str) -> None:
    message = preview(kind)
    reason = footer_reason(kind, sample_reason(kind), SNAPSHOT["project"])
    assert message.subject.strip()
    assert reason in message.body
    assert escape(reason) in html_of(message)
    assert "{" not in message.body  # no placeholder left unfilled


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_only_notifications_carry_an_unsubscribe_link(kind: str) -> None:
    headers = preview(kind).extra_headers
    assert ("List-Unsubscribe" in headers) is (kind not in ACCOUNT_KINDS)


def test_people_choose_every_notification_but_the_digest_and_account_emails() -> None:
    assert set(PREFERENCE_KINDS) == set(EVERY_KIND) - ACCOUNT_KINDS - {Kind.DIGEST}


@pytest.mark.parametrize("kind", PREFERENCE_KINDS)
def test_every_preference_kind_has_help_and_a_digest_line(kind: str) -> None:
    assert KINDS[kind].help.endswith(".")
    if kind in SCHEDULED_KINDS:  # no one did it: when the task is due
        assert KINDS[kind].summary == "{reminder_summary}"
    else:
        assert KINDS[kind].summary.startswith("{by} ")


def test_the_sample_digest_says_each_of_its_kinds_in_its_own_words() -> None:
    body = preview(Kind.DIGEST).body
    gathered = KINDS[Kind.DIGEST].preview.gathers
    assert "Mia Manager assigned you this task." in body
    assert "Mia Manager moved the due date from" in body
    assert "Mia Manager commented:" in body
    assert len(gathered) == 3


@pytest.mark.parametrize("kind", sorted(TASK_KINDS))
def test_every_email_about_a_task_has_its_subject_and_says_first_what_happened(
    kind: str,
) -> None:
    message = preview(kind)
    assert message.subject == "[Finance] Prepare the quarterly report (#42)"
    first_line = message.body.splitlines()[0]
    if kind in SCHEDULED_KINDS:
        assert first_line == "Reminder: this task is due tomorrow, Fri 29 Mar 2030."
    else:
        assert first_line.startswith("Mia Manager ")
    assert message.extra_headers["X-Tasks-Task"] == "42"
    assert "Stop emails about this task:" in message.body


@pytest.mark.parametrize("kind", sorted(set(EVERY_KIND) - TASK_KINDS))
def test_no_other_email_is_threaded(kind: str) -> None:
    headers = preview(kind).extra_headers
    assert not {"In-Reply-To", "References", "X-Tasks-Task"} & set(headers)


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_kind_has_a_preheader_of_its_own(kind: str) -> None:
    message = preview(kind)
    preheader = preheader_of(html_of(message))
    assert preheader.endswith(".") and "{" not in preheader
    assert preheader != message.subject
    if kind in TASK_KINDS:  # what happened, as the first line says it
        assert preheader == message.body.splitlines()[0]


def test_the_digests_preheader_is_its_first_line_and_how_many_more() -> None:
    preheader = preheader_of(html_of(preview(Kind.DIGEST)))
    assert preheader == (
        "Prepare the quarterly report: Mia Manager assigned you this task. And 2 more."
    )


@pytest.mark.parametrize("kind", sorted(ACCOUNT_KINDS))
def test_account_emails_have_sentence_case_subjects_and_headings(kind: str) -> None:
    message = preview(kind)
    heading = re.search(r"<h1[^>]*>(.+?)</h1>", html_of(message), re.DOTALL)
    assert heading
    for said in (message.subject.split(":")[0], heading.group(1).strip()):
        first, *rest = said.split()
        assert first[0].isupper()
        assert all(word.islower() or word == "Tasks" for word in rest), said
