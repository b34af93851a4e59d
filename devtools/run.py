"""`make run`: prepare a local environment, then start every process with honcho.

First run writes .env (git-ignored) with DEBUG on, a random SECRET_KEY, Flower
credentials and a demo password. Whatever the environment or .env already names
(EMAIL_HOST, CELERY_BROKER_URL, DB_*) wins over the embedded parts.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from decouple import AutoConfig

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
LOCAL_SMTP_HOSTS = {"127.0.0.1", "localhost"}


def write_local_env_file() -> None:
    ENV_FILE.write_text(
        "# Written by `make run` for local development. Never commit this file.\n"
        "DEBUG=True\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"FLOWER_BASIC_AUTH=ops:{secrets.token_urlsafe(12)}\n"
        f"DEMO_PASSWORD=demo-{secrets.token_urlsafe(9)}\n"
    )
    print(f"Wrote {ENV_FILE.name} with local development settings.")


def processes(config: AutoConfig) -> list[str]:
    """The Procfile entries to start: embedded parts only where none is named."""
    names = ["web", "worker", "beat", "flower", "announce"]
    if not config("CELERY_BROKER_URL", default=""):
        names.insert(0, "redis")
    if config("EMAIL_HOST", default="127.0.0.1") in LOCAL_SMTP_HOSTS:
        names.insert(0, "smtp")
    return names


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main() -> None:
    if not ENV_FILE.exists():
        write_local_env_file()
    config = AutoConfig(search_path=str(ROOT))
    if not config("FLOWER_BASIC_AUTH", default=""):
        sys.exit("FLOWER_BASIC_AUTH is not set: Flower never runs without a password.")
    (ROOT / "var").mkdir(exist_ok=True)
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    manage("seed_demo")
    venv_bin = str(Path(sys.executable).parent)
    os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    os.environ["PYTHONUNBUFFERED"] = "1"
    honcho = [str(Path(venv_bin) / "honcho"), "--no-prefix", "start"]
    os.chdir(ROOT)
    os.execv(honcho[0], [*honcho[:-1], "start", *processes(config)])


if __name__ == "__main__":
    main()
