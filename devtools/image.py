"""`make image`: build the production image here and start every role from it.

No Docker engine runs on these machines and no registry can be reached, but
buildah with `--isolation chroot` builds and runs images. So, in order:

1. the base: a stand-in for python:3.11-slim-bookworm from Debian's packages
   (devtools/base_image.py, cached between runs), and on it the proxy's: Debian's
   nginx (devtools/image_proxy.py, cached too);
2. the build: the project's Dockerfile on that base (`--build-arg BASE_IMAGE`);
3. the roles, each in its own container from the built image, as the image's
   non-root user, with the commands and environment of docker-compose.yml: web
   (migrate, then gunicorn) behind the proxy (nginx with deploy/nginx.conf and a
   certificate made for the run) in a network of their own, as in compose
   (devtools/image_network.py); worker, beat and Flower on the host's network;
   all against the host's PostgreSQL (a database of their own), a private Redis
   with a password and a local SMTP server;
4. the checks: /healthz and the image's own HEALTHCHECK, static files, through
   the proxy: the HTTPS redirect, HSTS, the client's own address counted (a
   forged X-Forwarded-For changing nothing) and web unreachable past it; a real
   sign-up over HTTPS whose activation email the worker role delivers and whose
   link then activates the account, beat's sweep run by the worker, the compose
   healthchecks of worker and Flower, Flower's 401 and 200.

Every process, container and database it starts is stopped and removed whatever
happens. It exits non-zero, saying what failed, when any step fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from devtools.base_image import ensure_base_image
from devtools.buildah import ImageError, buildah, image_config, say
from devtools.image_checks import Report, check_roles
from devtools.image_network import Relay, WebNetwork, web_network
from devtools.image_proxy import ensure_proxy_image, proxy_container, start_proxy
from devtools.image_roles import (
    IN_WEB_NETWORK,
    ROLES,
    ROOT,
    Address,
    ImageRole,
    Setting,
    postgres_address,
    private_redis,
    role_container,
    scratch_database,
    show_logs,
    smtp_server,
    start_roles,
)

IMAGE_NAME = "localhost/taskmanager:image-check"
# The egress of these machines re-signs TLS: pip in the build trusts the host's
# bundle for its RUN steps only; the image keeps Debian's own certificates.
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
TOOLS = {
    "buildah": "buildah",
    "debootstrap": "debootstrap",
    "chroot": "coreutils",
    "ip": "iproute2",
}


def main() -> int:
    # Both signals unwind the clean-ups; SIGINT even when started in the background.
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    try:
        check_tools()
        base = ensure_base_image()
        proxy_image = ensure_proxy_image(base)
        image = build_image(base)
        built = describe_image(image, base)
        report = run_roles(image, proxy_image)
    except ImageError as error:
        print(f"\nIMAGE CHECK FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:  # the clean-ups have run on the way out
        print("\n[image] interrupted; everything it started is stopped", flush=True)
        return 130
    print(f"\n[image] built: {built}", flush=True)
    print("[image] roles started from it, and the proxy, each answering:", flush=True)
    print("\n".join(report.lines), flush=True)
    print(f"[image] passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds every clean-up


def check_tools() -> None:
    missing = [package for tool, package in TOOLS.items() if not shutil.which(tool)]
    if missing:
        raise ImageError(f"missing tools: apt-get install {' '.join(missing)}")
    if os.geteuid() != 0:
        raise ImageError(
            "debootstrap, buildah's chroot isolation and network namespaces need root"
        )


# --- the build ---------------------------------------------------------------


def build_image(base: str) -> str:
    """The Dockerfile built on `base`; returns the image id."""
    started = time.monotonic()
    say(f"building Dockerfile FROM {base} as {IMAGE_NAME}")
    with tempfile.TemporaryDirectory(prefix="taskmanager-build-") as scratch:
        id_file, log_path = Path(scratch, "id"), Path(scratch, "build.log")
        command = [
            "buildah",
            "bud",
            "--isolation=chroot",
            "--network=host",
            "--format=docker",
            "--layers",
            "--force-rm",  # a failed step leaves no working container behind
            "--pull=never",
            f"--build-arg=BASE_IMAGE={base}",
            f"--volume={HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro",
            f"--iidfile={id_file}",
            "--tag",
            IMAGE_NAME,
            "--file",
            "Dockerfile",
            ".",
        ]
        if stream_steps(command, log_path) != 0:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise ImageError(f"the Dockerfile did not build:\n{tail}")
        image_id = id_file.read_text().strip().removeprefix("sha256:")
    say(f"built {image_id[:12]} in {time.monotonic() - started:.0f} s")
    return image_id


def stream_steps(command: list[str], log_path: Path) -> int:
    """Run the build, printing its steps (and cache hits), logging everything."""
    with log_path.open("w") as log:
        build = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in build.stdout or ():
            log.write(line)
            if line.startswith(("STEP ", "--> Using cache")):
                print(f"    {line.rstrip()[:150]}", flush=True)
        return build.wait()


def describe_image(image: str, base: str) -> str:
    config = image_config(image)
    user = config.get("User") or "root"
    if user.split(":")[0] in ("root", "0"):
        raise ImageError(f"the image runs as {user}: it must name a non-root user")
    if not config.get("Healthcheck"):
        raise ImageError("the image has no HEALTHCHECK (built in OCI format?)")
    listed = json.loads(buildah("images", "--json", image, capture=True))
    return (
        f"{IMAGE_NAME} ({image[:12]}, {listed[0]['size']}) FROM {base} "
        f"(stand-in for python:3.11-slim-bookworm), user {user}, HEALTHCHECK set"
    )


# --- the roles ---------------------------------------------------------------


def run_roles(image: str, proxy_image: str) -> Report:
    # The scratch directory (logs, mail) outlives every process writing into it.
    with (
        tempfile.TemporaryDirectory(prefix="taskmanager-image-") as scratch,
        ExitStack() as stack,
    ):
        work = Path(scratch)
        # Letters, digits, - and _: it goes into the broker URL, as in compose.
        redis_password = secrets.token_urlsafe(18)
        database = stack.enter_context(scratch_database())
        redis_port = stack.enter_context(private_redis(redis_password))
        smtp_port = stack.enter_context(smtp_server(work / "mail"))
        network = stack.enter_context(web_network())
        pg = postgres_address()
        setting = Setting(
            database=database,
            postgres=relayed(stack, network, (pg["host"], int(pg["port"]))),
            redis=relayed(stack, network, ("127.0.0.1", redis_port)),
            smtp=relayed(stack, network, ("127.0.0.1", smtp_port)),
            redis_password=redis_password,
        )
        roles = role_containers(stack, image, network)
        proxy = stack.enter_context(proxy_container(proxy_image, network, work))
        try:
            start_roles(roles, setting, image, work)
            start_proxy(proxy, work)
            return check_roles(roles, proxy, setting, work / "mail")
        except (ImageError, OSError) as error:
            show_logs({**roles, "proxy": proxy})
            raise ImageError(str(error)) from error


def relayed(stack: ExitStack, network: WebNetwork, target: tuple[str, int]) -> Address:
    """A service of the host's loopback, where every role reaches it: a relay on
    the web network's host end (web, in the network, reaches nothing else)."""
    relay = stack.enter_context(Relay(network.host_address, target))
    return Address(relay.address, relay.port)


def role_containers(
    stack: ExitStack, image: str, network: WebNetwork
) -> dict[str, ImageRole]:
    def netns(name: str) -> str | None:
        return network.netns if name in IN_WEB_NETWORK else None

    return {
        name: stack.enter_context(role_container(image, name, netns(name)))
        for name in ROLES
    }


if __name__ == "__main__":
    sys.exit(main())
