"""Thin helpers over buildah: images, working containers and processes run in them.

Containers run with `--isolation chroot` (the only isolation that starts here:
crun's setrlimit is refused) on the host's network, or in a network namespace of
their own (chroot isolation cannot make one: `ip netns exec` puts buildah in it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ISOLATION = "chroot"


class ImageError(RuntimeError):
    """A step of `make image` failed; the message says which and why."""


def say(message: str) -> None:
    print(f"[image] {message}", flush=True)


def run(
    command: list[str], env: Mapping[str, str] | None = None, capture: bool = False
) -> str:
    """Run a command; its output is returned when captured, shown when it fails."""
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise ImageError(
            f"`{' '.join(command[:6])}` exited {result.returncode}:\n{output}"
        )
    return result.stdout if capture else ""


def buildah(*args: str, capture: bool = False) -> str:
    return run(["buildah", *args], capture=capture)


def image_config(image: str) -> dict[str, Any]:
    """The image's Docker config: User, Cmd, Healthcheck, ..."""
    inspected = json.loads(buildah("inspect", "--type", "image", image, capture=True))
    config: dict[str, Any] = inspected["Docker"]["config"]
    return config


def image_exists(name: str) -> bool:
    result = subprocess.run(
        ["buildah", "inspect", "--type", "image", name],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


class Container:
    """A buildah working container made from an image: one per role.

    Its commands run on the host's network, or in the network namespace `netns`
    names (`ip netns add`), with the host paths of `volumes` mounted.
    """

    def __init__(
        self,
        image: str,
        name: str,
        netns: str | None = None,
        volumes: tuple[str, ...] = (),
    ) -> None:
        self.name, self.netns, self.volumes = name, netns, volumes
        buildah("from", "--pull=never", "--quiet", "--name", name, image, capture=True)

    def run_command(
        self, command: list[str], env: Mapping[str, str], user: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command to its end; the caller reads the exit code and output."""
        try:
            return subprocess.run(
                self.run_arguments(command, env, user),
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        except subprocess.TimeoutExpired as error:
            raise ImageError(
                f"`{shlex.join(command)}` still running after 120 s"
            ) from error

    def start(
        self, command: list[str], env: Mapping[str, str], log_path: Path, **options: str
    ) -> ContainerProcess:
        return ContainerProcess(self.run_arguments(command, env, **options), log_path)

    def run_arguments(
        self,
        command: list[str],
        env: Mapping[str, str],
        user: str | None = None,
        hostname: str | None = None,
    ) -> list[str]:
        options = [f"--env={key}={value}" for key, value in env.items()]
        if user:
            options.append(f"--user={user}")
        if hostname:
            options.append(f"--hostname={hostname}")
        options += [f"--volume={volume}" for volume in self.volumes]
        in_netns = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [
            *in_netns,
            "buildah",
            "run",
            f"--isolation={ISOLATION}",
            "--network=host",
            *options,
            self.name,
            "--",
            *command,
        ]

    def remove(self) -> None:
        subprocess.run(["buildah", "rm", self.name], capture_output=True, check=False)


class ContainerProcess:
    """A long-running `buildah run`, its output in a log file.

    buildah answers SIGTERM by killing the command outright, so a graceful stop
    signals the command itself (the first process below buildah's own) and lets
    buildah exit with it.
    """

    def __init__(self, arguments: list[str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                arguments, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def exited(self) -> bool:
        return self.popen.poll() is not None

    def command_pids(self) -> list[int]:
        """The command's own top processes (not buildah's wrappers) in the session."""
        session = processes_in_session(self.popen.pid)
        wrappers = {pid for pid, (_, name) in session.items() if "buildah" in name}
        return [
            pid
            for pid, (parent, _) in session.items()
            if pid not in wrappers and parent in wrappers
        ]

    def stop(self, timeout: float = 20.0) -> None:
        if self.exited():
            return
        for pid in self.command_pids():
            signal_quietly(pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=timeout)


def processes_in_session(session_id: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name) of every process in a session."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session_id:
            found[int(entry.name)] = (int(fields[1]), name)
    return found


def signal_quietly(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.kill(pid, signum)


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.5
) -> None:
    """Poll `condition()` until it is true; ImageError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ImageError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
