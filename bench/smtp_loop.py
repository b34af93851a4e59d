"""The throughput yardstick: a plain smtplib loop on one persistent connection.

Run as its own process (`python -m bench.smtp_loop PORT COUNT CONTENT`) so that,
like the worker, it does not share the SMTP server's interpreter. Builds each
message from the product's rendered assignment email (CONTENT, a JSON file the
bench writes: subject, text, HTML, sender), with a Message-ID and a Date, and
sends it; prints the seconds and the CPU seconds taken as JSON.
"""

from __future__ import annotations

import json
import smtplib
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def build(index: int, content: dict[str, str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{content['subject']} loop-{index:05d}"
    message["From"] = content["from"]
    message["To"] = f"loop{index % 100:05d}@example.com"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="bench.example.com")
    message.set_content(content["text"])
    message.add_alternative(content["html"], "html")
    return message


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    with open(sys.argv[3]) as file:
        content = json.load(file)
    start, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        for index in range(count):
            connection.send_message(build(index, content))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "count": count}))


if __name__ == "__main__":
    main()
