"""`python -c CODE` for the tests that load the settings at start-up, without
paying for the interpreter's imports each time.

Each run is a new process in which our own modules (the settings, the apps) were
never imported: it is forked from a server that has imported only third-party
libraries the product uses, with no DJANGO_SETTINGS_MODULE, so none of them could
have read our settings or the variables a case sets. That saves about 0.3 s of
the 0.5 s a fresh interpreter spends on Django, Celery, Redis and the rest.

This file is also the server: `python tests/support/fresh_python.py` reads one
JSON request a line on standard input (code, environment, working directory) and
answers one JSON line (returncode, stdout, stderr) when the child has exited.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import subprocess
import sys
import tempfile
import traceback
import types
from pathlib import Path
from typing import IO, Any

# Libraries the product's start-up imports; only the speed depends on this list.
PRELOADED = (
    "django.urls",
    "django.db.models",
    "django.forms",
    "django.template.defaulttags",
    "django.contrib.auth.hashers",
    "celery",
    "celery.app.base",
    "kombu",
    "kombu.transport.redis",
    "redis",
    "redis.asyncio",
    "requests",
    "dns.resolver",
    "icalendar",
    "yaml",
    "prometheus_client",
    "sqlparse",
    "dateutil",
    "flufl.bounce",
    "decouple",
    "whitenoise",
    "anymail",
    "csp",
    "axes",
    "django_celery_results",
    "aiosmtpd.controller",
    "dkim",
)
# Our packages: none may be imported before a child starts.
OURS = ("project", "tasks", "users", "notifications", "worker", "ui", "tests")


class Server:
    """One server process, started on first use, ending with this process."""

    process: subprocess.Popen[str] | None = None

    @classmethod
    def started(cls) -> subprocess.Popen[str]:
        if cls.process is None or cls.process.poll() is not None:
            environment = dict(os.environ)
            environment.pop("DJANGO_SETTINGS_MODULE", None)
            cls.process = subprocess.Popen(
                [sys.executable, __file__],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                env=environment,
            )  # fmt: skip
            atexit.register(cls.stop)
        return cls.process

    @classmethod
    def stop(cls) -> None:
        if cls.process is not None:
            cls.process.kill()
            cls.process.wait()
            cls.process = None


def run(
    code: str, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """What `subprocess.run([python, "-c", code], env=env, cwd=cwd,
    capture_output=True, text=True, timeout=timeout)` gives."""
    server = Server.started()
    assert server.stdin and server.stdout
    request = {"code": code, "env": env, "cwd": str(cwd)}
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    if not select.select([server.stdout], [], [], timeout)[0]:
        Server.stop()
        raise subprocess.TimeoutExpired(["-c", code], timeout)
    answer = json.loads(server.stdout.readline())
    return subprocess.CompletedProcess(
        ["-c", code], answer["returncode"], answer["stdout"], answer["stderr"]
    )


def serve() -> None:
    for name in PRELOADED:
        importlib.import_module(name)
    from django.conf import settings

    assert not settings.configured
    assert not [name for name in sys.modules if name.split(".")[0] in OURS]
    for line in sys.stdin:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            returncode = fork(json.loads(line), out, err)
            answer = {
                "returncode": returncode,
                "stdout": text(out),
                "stderr": text(err),
            }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def fork(request: dict[str, Any], out: IO[bytes], err: IO[bytes]) -> int:
    pid = os.fork()
    if pid == 0:
        child(request, out, err)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def child(request: dict[str, Any], out: IO[bytes], err: IO[bytes]) -> None:
    """Becomes `python -c code`: its streams, environment, directory and
    sys.path; exits as the interpreter would."""
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = ""
    sys.argv = ["-c"]
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    returncode = 0
    try:
        exec(compile(request["code"], "<string>", "exec"), main.__dict__)  # noqa: S102
    except SystemExit as exit:
        returncode = exit_code(exit)
    except BaseException:
        traceback.print_exc()
        returncode = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(returncode)


def exit_code(exit: SystemExit) -> int:
    """As the interpreter turns sys.exit(x) into a status."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)
    return 1


def text(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")


if __name__ == "__main__":
    serve()
