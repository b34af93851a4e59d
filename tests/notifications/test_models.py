"""The delivery lifecycle: every transition, and the guard on the state it leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from notifications.models import Delivery, Entry
from tests.factories import DeliveryFactory, UserFactory, fresh, pks, queued_deliveries

pytestmark = pytest.mark.django_db
Status = Delivery.Status


def claimed(count: int = 1) -> list[Delivery]:
    return Delivery.objects.claim(pks(queued_deliveries(count)))


def ago(seconds: float) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


class TestRecord:
    def test_it_records_one_queued_row_per_entry_once_per_event(self) -> None:
        user = UserFactory()
        first = Delivery.objects.record("task_deleted", [Entry(user.pk, "event:1")])
        again = Delivery.objects.record("task_deleted", [Entry(user.pk, "event:1")])
        assert first == again
        assert fresh(Delivery.objects.get(pk=first[0])).status == Status.QUEUED

    def test_recording_an_event_again_leaves_its_row_as_it_was(self) -> None:
        user = UserFactory()
        [pk] = Delivery.objects.record("task_deleted", [Entry(user.pk, "event:2")])
        Delivery.objects.claim([pk])
        Delivery.objects.record("task_deleted", [Entry(user.pk, "event:2", {"x": 1})])
        row = Delivery.objects.get(pk=pk)
        assert (row.status, row.context) == (Status.SENDING, {})


class TestClaim:
    def test_a_claimed_row_is_not_claimed_again(self) -> None:
        [delivery] = queued_deliveries()
        first = Delivery.objects.claim([delivery.pk], job_id="job-1")
        second = Delivery.objects.claim([delivery.pk], job_id="job-2")
        assert (pks(first), second) == ([delivery.pk], [])
        row = fresh(delivery)
        assert (row.status, row.attempts, row.job_id) == (Status.SENDING, 1, "job-1")

    def test_only_queued_rows_are_claimed(self) -> None:
        rows = [DeliveryFactory(status=status) for status in Status.values]
        assert [row.status for row in Delivery.objects.claim(pks(rows))] == [
            Status.SENDING
        ]


class TestLeavingSending:
    def test_sent_keeps_the_reply_and_message_id(self) -> None:
        [delivery] = claimed()
        assert delivery.mark_sent("250 2.0.0 queued as X", "<id@example.com>")
        row = fresh(delivery)
        assert (row.status, row.smtp_reply, row.message_id) == (
            Status.SENT, "250 2.0.0 queued as X", "<id@example.com>"
        )  # fmt: skip
        assert row.sent_at is not None

    def test_retry_later_spends_the_attempt_and_sets_the_due_time(self) -> None:
        [delivery] = claimed()
        before = timezone.now()
        assert delivery.retry_later("451 later", delay=60)
        row = fresh(delivery)
        assert (row.status, row.attempts, row.last_error) == (
            Status.QUEUED, 1, "451 later"
        )  # fmt: skip
        assert row.next_attempt_at >= before + timedelta(seconds=60)

    def test_release_untried_gives_the_attempt_back(self) -> None:
        [delivery] = claimed()
        assert delivery.release_untried()
        row = fresh(delivery)
        assert (row.status, row.attempts, row.claim_token) == (Status.QUEUED, 0, "")

    @pytest.mark.parametrize(
        ("move", "status"),
        [("mark_failed", Status.FAILED), ("skip", Status.SKIPPED)],
    )
    def test_failed_and_skipped_keep_the_reason(self, move: str, status: str) -> None:
        [delivery] = claimed()
        assert getattr(delivery, move)("the reason")
        row = fresh(delivery)
        assert (row.status, row.last_error) == (status, "the reason")

    def test_a_run_whose_claim_was_taken_over_writes_nothing(self) -> None:
        [delivery] = claimed()
        Delivery.objects.filter(pk=delivery.pk).update(claim_token="another-run")
        assert delivery.mark_sent("250 ok", "<x@y>") is False
        assert fresh(delivery).status == Status.SENDING

    def test_a_row_that_is_not_sending_does_not_move(self) -> None:
        [delivery] = claimed()
        assert delivery.mark_sent("250 ok", "<x@y>")
        assert delivery.retry_later("451 later", delay=1) is False
        assert fresh(delivery).status == Status.SENT


class TestSweepTransitions:
    def stuck(self, attempts: int = 1) -> Delivery:
        return DeliveryFactory(
            status=Status.SENDING, claimed_at=ago(settings.NOTIFICATIONS_LEASE + 5),
            claim_token="dead", attempts=attempts,
        )  # fmt: skip

    def test_requeue_stuck_takes_only_rows_past_their_lease(self) -> None:
        stuck = self.stuck()
        DeliveryFactory(status=Status.SENDING, claimed_at=ago(5), claim_token="live")
        assert Delivery.objects.requeue_stuck(timezone.now()) == [stuck.pk]
        row = fresh(stuck)
        assert (row.status, row.claim_token, row.attempts) == (Status.QUEUED, "", 1)

    def test_give_up_stuck_fails_rows_without_an_attempt_left(self) -> None:
        worn_out = self.stuck(attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS)
        self.stuck(attempts=1)
        assert Delivery.objects.give_up_stuck(timezone.now()) == 1
        assert fresh(worn_out).status == Status.FAILED
        assert "worker stopped mid-send" in worn_out.last_error

    def test_postpone_moves_only_queued_rows(self) -> None:
        queued, sent = DeliveryFactory(), DeliveryFactory(status=Status.SENT)
        later = timezone.now() + timedelta(minutes=10)
        assert Delivery.objects.postpone(pks([queued, sent]), until=later) == 1
        assert fresh(queued).next_attempt_at == later


class TestResend:
    def test_only_failed_rows_are_queued_again_with_fresh_attempts(self) -> None:
        failed = DeliveryFactory(status=Status.FAILED, attempts=12)
        sent = DeliveryFactory(status=Status.SENT, attempts=1)
        assert Delivery.objects.resend(pks([failed, sent])) == [failed.pk]
        assert (fresh(failed).status, failed.attempts) == (Status.QUEUED, 0)
        assert fresh(sent).status == Status.SENT


def test_nothing_outside_the_lifecycle_writes_a_status() -> None:
    """The states table is the whole truth: no other module moves a row."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = [
        path.relative_to(root).as_posix()
        for folder in ("notifications", "worker")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts and "status=" in path.read_text()
    ]
    assert writers == ["notifications/models.py"]
