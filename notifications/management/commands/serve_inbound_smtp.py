"""`manage.py serve_inbound_smtp`: the inbound SMTP door (make run starts it).

Listens on 127.0.0.1:INBOUND_SMTP_PORT unless told otherwise; an MTA in front
relays mail for INBOUND_DOMAIN to it (docs/inbound.md). Stops on SIGTERM or
Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from notifications.inbound_smtp import inbound_server


class Command(BaseCommand):
    help = "Take mail for INBOUND_DOMAIN over SMTP: replies, bounces, complaints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="default: loopback")
        parser.add_argument("--port", type=int, default=settings.INBOUND_SMTP_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.INBOUND_DOMAIN:
            self.stderr.write(
                "INBOUND_DOMAIN is not set: every address will be refused as unknown."
            )
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        server = inbound_server(options["host"], options["port"])
        server.start()
        where = f"{options['host']}:{options['port']}"
        self.stdout.write(
            f"Inbound SMTP listening on {where} for @{settings.INBOUND_DOMAIN}"
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            server.stop()
