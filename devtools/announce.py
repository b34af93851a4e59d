"""Prints where everything is once the web server answers (a Procfile entry)."""

from __future__ import annotations

import threading
import time
import urllib.request

from decouple import config


def wait_for_web(url: str, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback URL)
                return True
        except OSError:
            time.sleep(0.5)
    return False


def banner() -> str:
    flower_user, _, flower_password = config("FLOWER_BASIC_AUTH").partition(":")
    demo_password = config("DEMO_PASSWORD", default="(see DEMO_PASSWORD in .env)")
    # devtools.run decided where mail goes (an SMTP server already there, or ours).
    mail = config("RUN_MAIL_DESTINATION", default=config("EMAIL_HOST", default=""))
    inbound_port = config("INBOUND_SMTP_PORT", default="2525")
    inbound_domain = config("INBOUND_DOMAIN", default="")
    return f"""
==================================================================
 Task manager is running
   App          http://127.0.0.1:8000/
   Admin        http://127.0.0.1:8000/admin/
   Delivery log http://127.0.0.1:8000/notifications/
   Health       http://127.0.0.1:8000/healthz
   Flower       http://127.0.0.1:5555/  (user {flower_user}, password {flower_password})
   Emails       {mail}
   Inbound SMTP 127.0.0.1:{inbound_port}  (replies and bounces to @{inbound_domain})
 Demo accounts (password {demo_password}):
   admin (Admin), manager (Manager), alice / bob / carol (Employees)
 Press Ctrl-C to stop every process.
==================================================================
"""


def main() -> None:
    if wait_for_web("http://127.0.0.1:8000/healthz"):
        print(banner(), flush=True)
    else:
        print("The web server did not answer within two minutes; see its log above.")
    threading.Event().wait()  # honcho stops everything when one process exits


if __name__ == "__main__":
    main()
