"""The proxy of `make image`: compose's nginx in front of the web role.

docker-compose.yml runs the official nginx image with deploy/nginx.conf and the
TLS directory mounted read-only. No registry image can be pulled here, so the
stand-in is Debian's nginx installed on the base image (devtools/base_image.py),
cached in buildah's storage under a tag naming how it was made. It runs the
official image's command, as root as there (its workers drop privileges), in
the web network (devtools/image_network.py) with compose's two volumes: the very
deploy/nginx.conf, its upstream `web:8000` pointed at the namespace's loopback
where web listens, and a certificate for SITE_HOST made for the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from devtools.buildah import (
    Container,
    ContainerProcess,
    ImageError,
    buildah,
    image_config,
    image_exists,
    say,
)
from devtools.image_network import WebNetwork
from devtools.image_roles import COMPOSE_WEB_PORT, ROOT, SITE_HOST, compose_services

IMAGE_REPOSITORY = "localhost/taskmanager-proxy"
# policy-rc.d keeps the package's scripts from starting nginx on the host's
# network during the build.
INSTALL = """\
set -e
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx
rm -rf /usr/sbin/policy-rc.d /var/lib/apt/lists/* /etc/nginx/sites-enabled/*
"""
# The official image's command and stop signal (a graceful stop).
COMMAND = ["nginx", "-g", "daemon off;"]
STOP_SIGNAL = "SIGQUIT"
# Where compose's upstream is, and where web listens in the web network.
COMPOSE_UPSTREAM = f"server web:{COMPOSE_WEB_PORT};"
NETWORK_UPSTREAM = f"server 127.0.0.1:{COMPOSE_WEB_PORT};"


def ensure_proxy_image(base: str) -> str:
    """nginx from Debian's packages on `base`: made when missing, then cached."""
    recipe = json.dumps([base, INSTALL, COMMAND, STOP_SIGNAL]).encode()
    name = f"{IMAGE_REPOSITORY}:nginx-{hashlib.sha256(recipe).hexdigest()[:12]}"
    if image_exists(name):
        say(f"proxy image {name}: cached in buildah's storage")
        return name
    say(f"proxy image: Debian's nginx on {base}")
    container = buildah("from", "--pull=never", "--quiet", base, capture=True).strip()
    try:
        install = ["sh", "-c", INSTALL]
        buildah(
            "run", "--isolation=chroot", "--network=host", container, "--", *install
        )
        buildah(
            "config",
            "--cmd",
            json.dumps(COMMAND),
            "--stop-signal",
            STOP_SIGNAL,
            "--label",
            "org.opencontainers.image.description="
            "stand-in for nginx:alpine from Debian's nginx package",
            container,
        )
        buildah("commit", "--quiet", "--format", "docker", container, name)
    finally:
        buildah("rm", container, capture=True)
    say(f"proxy image {name}: made")
    return name


@dataclass
class Proxy:
    """The proxy running in the web network, and how a client trusts it."""

    image: str
    container: Container
    network: WebNetwork
    client_tls: ssl.SSLContext
    process: ContainerProcess | None = None

    def running(self) -> ContainerProcess:
        if self.process is None or self.process.exited():
            raise ImageError("the proxy exited")
        return self.process

    def version(self) -> str:
        result = self.container.run_command(["nginx", "-v"], {})
        return (result.stdout + result.stderr).strip().removeprefix("nginx version: ")


@contextmanager
def proxy_container(image: str, network: WebNetwork, work: Path) -> Iterator[Proxy]:
    """The proxy's container, with compose's volumes; started by `start_proxy`."""
    authority = trustme.CA()
    volumes = compose_volumes(write_config(work), write_certificate(authority, work))
    name = f"taskmanager-image-proxy-{os.getpid()}"
    container = Container(image, name, netns=network.netns, volumes=volumes)
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    proxy = Proxy(image, container, network, client_tls)
    try:
        yield proxy
    finally:
        if proxy.process:
            proxy.process.stop()
        container.remove()


def start_proxy(proxy: Proxy, work: Path) -> None:
    command = (
        compose_services()["proxy"].get("command") or image_config(proxy.image)["Cmd"]
    )
    say(f"starting the proxy in {proxy.network.netns}: {' '.join(command)}")
    proxy.process = proxy.container.start(command, {}, work / "proxy.log")


def write_config(work: Path) -> Path:
    """deploy/nginx.conf, its upstream moved to where web listens in the network."""
    config = (ROOT / "deploy" / "nginx.conf").read_text()
    if COMPOSE_UPSTREAM not in config:
        raise ImageError(
            f"deploy/nginx.conf no longer says `{COMPOSE_UPSTREAM}`: teach "
            "devtools/image_proxy.py where its upstream is"
        )
    path = work / "nginx.conf"
    path.write_text(config.replace(COMPOSE_UPSTREAM, NETWORK_UPSTREAM))
    return path


def write_certificate(authority: trustme.CA, work: Path) -> Path:
    """fullchain.pem and privkey.pem for SITE_HOST, as compose's TLS_CERT_DIR holds."""
    certificate = authority.issue_cert(SITE_HOST)
    directory = work / "tls"
    directory.mkdir()
    chain = b"".join(blob.bytes() for blob in certificate.cert_chain_pems)
    (directory / "fullchain.pem").write_bytes(chain)
    certificate.private_key_pem.write_to_path(str(directory / "privkey.pem"))
    return directory


def compose_volumes(config: Path, tls_directory: Path) -> tuple[str, ...]:
    """The proxy's volumes in docker-compose.yml, their sources made for this run."""
    volumes = []
    for volume in compose_services()["proxy"].get("volumes", []):
        source, target, mode = str(volume).rsplit(":", 2)
        if source.endswith("nginx.conf"):
            volumes.append(f"{config}:{target}:{mode}")
        elif "tls" in source:
            volumes.append(f"{tls_directory}:{target}:{mode}")
        else:
            raise ImageError(
                f"docker-compose.yml mounts {source} into the proxy: teach "
                "devtools/image_proxy.py what to mount there"
            )
    return tuple(volumes)
