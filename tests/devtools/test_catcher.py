"""The SMTP catcher of `make run` keeps each email as a mailbox would."""

from __future__ import annotations

import time
from pathlib import Path

from devtools.smtp import MailSink, Received


def test_a_saved_email_starts_with_its_envelope_sender(tmp_path: Path) -> None:
    """Under `make run` the signed bounce address is read from the saved file."""
    sink = MailSink(save_dir=tmp_path)
    content = b"Subject: Hi\r\nTo: ann@example.com\r\n\r\nHello\r\n"
    sink.keep(
        Received(
            "bounces+abc@inbound.localhost",
            ["ann@example.com"],
            content,
            time.monotonic(),
        )
    )

    (saved,) = tmp_path.glob("*.eml")
    assert saved.read_bytes() == (
        b"Return-Path: <bounces+abc@inbound.localhost>\r\n" + content
    )
