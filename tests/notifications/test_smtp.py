"""The SMTP client and the table that says what a failed send means."""

from __future__ import annotations

import errno
import smtplib
import ssl

import pytest

from notifications.smtp import Failure, Verdict, classify


class TestClassification:
    @pytest.mark.parametrize(
        ("error", "transient"),
        [
            (smtplib.SMTPDataError(451, b"later"), True),
            (smtplib.SMTPDataError(554, b"no"), False),
            (smtplib.SMTPConnectError(421, b"busy"), True),
            (smtplib.SMTPConnectError(554, b"go away"), False),
            (smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")}), False),
            (smtplib.SMTPRecipientsRefused({"a@b": (452, b"full")}), True),
            (smtplib.SMTPServerDisconnected("gone"), True),
            (smtplib.SMTPException("no AUTH"), False),
            (TimeoutError("timed out"), True),
            (ConnectionResetError(), True),
            (ConnectionRefusedError(), True),
            (OSError(errno.ENETUNREACH, "Network is unreachable"), True),
            (OSError("other"), False),
            (ssl.SSLCertVerificationError("certificate verify failed"), False),
        ],
    )
    def test_transient_and_permanent_are_told_apart(
        self, error: BaseException, transient: bool
    ) -> None:
        verdict = classify(Failure.from_error(error))
        assert (verdict is Verdict.RETRY) is transient
