"""The throughput baseline: a plain smtplib loop on one persistent connection.

Run as its own process (`python -m bench.smtp_loop PORT COUNT`) so that, like the
worker, it does not share the SMTP server's interpreter. Builds each message (text
and HTML parts, Message-ID, Date) and sends it; prints the seconds taken as JSON.
"""

from __future__ import annotations

import json
import smtplib
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

SENDER = "Tasks <noreply@example.com>"


def build(index: int) -> EmailMessage:
    tag = f"loop-{index:05d}"
    message = EmailMessage()
    message["Subject"] = f"New Task Assigned: Load {tag}"
    message["From"] = SENDER
    message["To"] = f"loop{index % 100:05d}@example.com"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="bench.example.com")
    text = f"Hi,\n\nYou were assigned “Load {tag}” (Benchmark), due soon.\n"
    message.set_content(text)
    message.add_alternative(f"<p>You were assigned <b>Load {tag}</b>.</p>", "html")
    return message


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        for index in range(count):
            connection.send_message(build(index))
    print(json.dumps({"seconds": time.perf_counter() - start, "count": count}))


if __name__ == "__main__":
    main()
