"""`make run`: prepare a local environment, then start every process with honcho.

First run writes .env (git-ignored) with DEBUG on, a random SECRET_KEY, Flower
credentials and a demo password. The environment wins over .env, for every
variable and every process. Whatever they name (CELERY_BROKER_URL, DB_*) wins over
the embedded parts, and an SMTP server already answering on EMAIL_HOST:EMAIL_PORT
is used instead of starting the built-in catcher.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from decouple import AutoConfig, RepositoryEnv

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
LOCAL_SMTP_HOSTS = {"127.0.0.1", "localhost"}  # where the catcher can listen
# Where replies and bounces are addressed locally, unless INBOUND_DOMAIN says:
# nothing outside reaches it, but the inbound listener takes mail sent to it.
LOCAL_INBOUND_DOMAIN = "inbound.localhost"
GREETING_TIMEOUT = 3.0  # seconds an SMTP server has to say 220


@dataclass(frozen=True)
class MailPlan:
    start_catcher: bool
    address: str  # EMAIL_HOST:EMAIL_PORT
    destination: str  # where the emails end up, for the banner


def write_local_env_file() -> None:
    ENV_FILE.write_text(
        "# Written by `make run` for local development. Never commit this file.\n"
        "DEBUG=True\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"FLOWER_BASIC_AUTH=ops:{secrets.token_urlsafe(12)}\n"
        f"DEMO_PASSWORD=demo-{secrets.token_urlsafe(9)}\n"
    )
    print(f"Wrote {ENV_FILE.name} with local development settings.")


def processes(config: AutoConfig, mail: MailPlan) -> list[str]:
    """The Procfile entries to start: embedded parts only where none is named."""
    names = ["web", "inbound", "worker", "beat", "flower", "announce"]
    if not config("CELERY_BROKER_URL", default=""):
        names.insert(0, "redis")
    if mail.start_catcher:
        names.insert(0, "smtp")
    return names


def environment_first() -> None:
    """Fill in from .env only what the environment does not set.

    Every process, and the Procfile's ${...}, then sees the values the settings
    read (python-decouple: the environment, then .env). honcho itself would load
    .env over the environment, so it is started without it.
    """
    if ENV_FILE.exists():
        for name, value in RepositoryEnv(str(ENV_FILE)).data.items():
            os.environ.setdefault(name, value)


def smtp_greeting(host: str, port: int) -> str | None:
    """What a server on host:port says first; None when nothing listens there."""
    try:
        connection = socket.create_connection((host, port), timeout=GREETING_TIMEOUT)
    except OSError:
        return None
    with connection:
        try:
            return connection.recv(512).decode(errors="replace").strip()
        except OSError:  # a timeout: it listens, but says nothing
            return ""


def mail_plan(config: AutoConfig) -> MailPlan:
    """Use the SMTP server that answers on EMAIL_HOST:EMAIL_PORT, or start ours.

    Exits with a clear message when something that is not SMTP holds the port,
    rather than letting the catcher fail to bind and honcho stop everything.
    """
    host = config("EMAIL_HOST", default="127.0.0.1")
    port = config("EMAIL_PORT", default=1025, cast=int)
    address = f"{host}:{port}"
    # Implicit TLS speaks only after a handshake: no plain greeting to listen for.
    implicit_tls = config("EMAIL_USE_SSL", default=False, cast=bool)
    if host not in LOCAL_SMTP_HOSTS or implicit_tls:
        return MailPlan(False, address, f"the SMTP server at {address}")
    greeting = smtp_greeting(host, port)
    if greeting is None:
        return MailPlan(True, address, "var/mail/*.eml and this terminal")
    if greeting.startswith("220"):
        return MailPlan(False, address, f"your SMTP server on {address}")
    said = f"it said {greeting[:60]!r}" if greeting else "it said nothing"
    sys.exit(
        f"Port {port} on {host} is taken by something that is not an SMTP server "
        f"({said}, not a 220 greeting). Stop it, or set EMAIL_PORT to a free "
        "port, or to the port of your SMTP server (e.g. Mailpit's 1025)."
    )


def announce_mail(plan: MailPlan) -> None:
    if plan.start_catcher:
        print(f"Mail: nothing answers on {plan.address}; starting the catcher there.")
    else:
        print(f"Mail: sending to {plan.destination}; no catcher started.")
    os.environ["RUN_MAIL_DESTINATION"] = plan.destination


def honcho_command(honcho: str, names: list[str]) -> list[str]:
    """honcho without an env file: environment_first() already merged .env in."""
    return [honcho, "--no-prefix", "start", "--env", os.devnull, *names]


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main() -> None:
    if not ENV_FILE.exists():
        write_local_env_file()
    environment_first()
    os.environ.setdefault("INBOUND_DOMAIN", LOCAL_INBOUND_DOMAIN)
    # A local try-out lets anyone sign up; production keeps it off unless set.
    os.environ.setdefault("SIGN_UP_OPEN", "True")
    config = AutoConfig(search_path=str(ROOT))
    if not config("FLOWER_BASIC_AUTH", default=""):
        sys.exit("FLOWER_BASIC_AUTH is not set: Flower never runs without a password.")
    mail = mail_plan(config)
    announce_mail(mail)
    (ROOT / "var").mkdir(exist_ok=True)
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    if config("DEBUG", default=False, cast=bool):
        manage("seed_demo")
    else:
        print("DEBUG is off: no demo accounts (seed_demo is for development only).")
    venv_bin = str(Path(sys.executable).parent)
    os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    os.environ["PYTHONUNBUFFERED"] = "1"
    honcho = honcho_command(str(Path(venv_bin) / "honcho"), processes(config, mail))
    os.chdir(ROOT)
    os.execv(honcho[0], honcho)


if __name__ == "__main__":
    main()
