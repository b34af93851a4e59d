"""The SMTP catcher of `make run` keeps each email as a mailbox would."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

from devtools.smtp import MailSink, Received, free_port
from tests.support.waiting import wait_until


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


def test_the_catcher_of_make_run_takes_and_saves_an_email(tmp_path: Path) -> None:
    """`python -m devtools.smtp` as `make run` starts it: a 250, and the file."""
    port = free_port()
    command = [sys.executable, "-m", "devtools.smtp", "--port", str(port)]
    catcher = subprocess.Popen(
        [*command, "--save-dir", str(tmp_path)], stdout=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: answers(port), what="the catcher listening")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail(
                "bounces+abc@inbound.localhost",
                ["ann@example.com"],
                b"Subject: Hi\r\n\r\nHello\r\n",
            )
        (saved,) = tmp_path.glob("*.eml")
        assert saved.read_bytes().startswith(
            b"Return-Path: <bounces+abc@inbound.localhost>"
        )
    finally:
        catcher.terminate()
        catcher.wait(10)


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True
