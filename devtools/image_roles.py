"""The roles of `make image`: what they share, and each started in its container.

Each role runs the command docker-compose.yml gives it, from the built image, as
the image's user, with compose's environment (its defaults). web runs in the web
network with the proxy (devtools/image_network.py), on compose's port 8000 but
on the network's loopback, where only the proxy reaches it; worker, beat and
Flower run on the host's network, Flower on a free loopback port instead of
5555. Compose's `postgres`, `redis` and `mailpit` become the host's PostgreSQL (a
database of the run's own), a private Redis with a password and a local SMTP
server, which every role reaches through relays on the web network's host end.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg2
import yaml

from devtools.buildah import Container, ContainerProcess, ImageError, image_config, say
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import MailSink, SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("web", "worker", "beat", "flower")
# Names a real deployment's domain would take; `.test` never resolves anywhere.
SITE_HOST = "tasks.image-check.test"
# Where compose's roles listen: web keeps its port in the web network, Flower's
# is replaced by a free loopback port on the host's network.
COMPOSE_WEB_PORT, COMPOSE_FLOWER_PORT = "8000", "5555"
COMPOSE_PORTS = {"web": COMPOSE_WEB_PORT, "flower": COMPOSE_FLOWER_PORT}
# The roles that run in the web network with the proxy.
IN_WEB_NETWORK = ("web",)


@dataclass(frozen=True)
class Address:
    host: str
    port: int


@dataclass
class Setting:
    """Everything the roles share: addresses, credentials, their environment."""

    database: str
    # Where the roles reach PostgreSQL, Redis and the SMTP server (the relays).
    postgres: Address
    redis: Address
    smtp: Address
    redis_password: str
    flower_port: int = field(default_factory=free_port)
    flower_auth: str = field(
        default_factory=lambda: f"image-check:{secrets.token_urlsafe(16)}"
    )
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def site_origin(self) -> str:
        """FRONTEND_URL: the site as its users reach it, through the proxy."""
        return f"https://{SITE_HOST}"

    def environment(self) -> dict[str, str]:
        """What compose's `x-app` environment gives the roles (its defaults:
        BEHIND_PROXY, the HTTPS redirect, secure cookies, HSTS), pointed at this
        run's site, services and secrets."""
        return {
            **compose_defaults(),
            "SECRET_KEY": self.secret_key,
            "DEBUG": "False",
            # Closed by default in production; the check signs someone up.
            "SIGN_UP_OPEN": "True",
            "ALLOWED_HOSTS": SITE_HOST,
            "CSRF_TRUSTED_ORIGINS": self.site_origin,
            "FRONTEND_URL": self.site_origin,
            "DB_NAME": self.database,
            "DB_USER": postgres_address()["user"],
            "DB_PASSWORD": "",  # the host's PostgreSQL trusts loopback
            "DB_HOST": self.postgres.host,
            "DB_PORT": str(self.postgres.port),
            "CELERY_BROKER_URL": (
                f"redis://:{self.redis_password}@{self.redis.host}:{self.redis.port}/0"
            ),
            "EMAIL_HOST": self.smtp.host,
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_USE_TLS": "False",
            "EMAIL_USE_SSL": "False",
            "EMAIL_HOST_USER": "",  # the local SMTP server asks for no login
            "EMAIL_HOST_PASSWORD": "",
            "DEFAULT_FROM_EMAIL": "Tasks <noreply@example.com>",
            "EMAIL_RATE_LIMIT": "",  # no pace: one email
            "EMAIL_DAILY_LIMIT": "",
            "FLOWER_BASIC_AUTH": self.flower_auth,
            "METRICS_TOKEN": self.metrics_token,
            "NOTIFICATIONS_RETENTION_DAYS": "90",
        }

    def on_free_ports(self, argument: str) -> str:
        """A compose command or healthcheck moved to loopback (the web network's,
        for web) and this run's Flower port."""
        loopback = argument.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 (not bound)
        return loopback.replace(COMPOSE_FLOWER_PORT, str(self.flower_port))


@dataclass
class ImageRole:
    name: str
    image: str
    container: Container
    hostname: str
    user: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    process: ContainerProcess | None = None

    def running(self) -> ContainerProcess:
        """Its process, which must not have exited: a role that died fails the run."""
        if self.process is None or self.process.exited():
            raise ImageError(f"the {self.name} role exited")
        return self.process


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"taskmanager_image_{os.getpid()}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    say(f"PostgreSQL database {name} created")
    try:
        yield name
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        say(f"PostgreSQL database {name} dropped")


def postgres_address() -> dict[str, str]:
    """The host's PostgreSQL, as libpq's own variables name it (trust auth)."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
    }


def postgres_admin(statement: str) -> None:
    postgres_query("postgres", statement)


def postgres_query(
    database: str, statement: str, parameters: tuple[str, ...] = ()
) -> list[tuple[Any, ...]]:
    try:
        connection = psycopg2.connect(dbname=database, **postgres_address())
    except psycopg2.OperationalError as error:
        raise ImageError(f"PostgreSQL does not answer: {error}") from error
    connection.autocommit = True  # CREATE/DROP DATABASE refuse a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


@contextmanager
def private_redis(password: str) -> Iterator[int]:
    """A Redis asking for a password, as compose's does."""
    with EmbeddedRedis(free_port(), password=password) as redis:
        say(f"private Redis on 127.0.0.1:{redis.port}, with a password")
        yield redis.port


@contextmanager
def smtp_server(save_dir: Path) -> Iterator[int]:
    with SMTPServer(MailSink(save_dir=save_dir)) as server:
        say(f"SMTP server on 127.0.0.1:{server.port}, mail saved in {save_dir}")
        yield server.port


@contextmanager
def role_container(image: str, name: str, netns: str | None) -> Iterator[ImageRole]:
    hostname = f"{name}-{os.getpid()}"
    container = Container(image, f"taskmanager-image-{hostname}", netns=netns)
    role = ImageRole(name, image, container, hostname)
    try:
        yield role
    finally:
        if role.process:
            role.process.stop()
        role.container.remove()


def compose_defaults() -> dict[str, str]:
    """The web service's environment with each ${NAME:-default} as its default."""
    environment = compose_services()["web"]["environment"]
    return {
        name: DEFAULT.sub(lambda match: match.group(1) or "", str(value))
        for name, value in environment.items()
    }


# ${NAME:-default} (the default, maybe empty) or ${NAME:?message} (no default).
DEFAULT = re.compile(r"\$\{[A-Z_]+(?::-([^}]*)|:\?[^}]*)\}")


def compose_services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, Any] = compose["services"]
    return services


def role_command(
    name: str, service: dict[str, Any], image: str, setting: Setting
) -> list[str]:
    """The compose command of a role, moved to this run's loopback ports."""
    command = service.get("command") or image_config(image)["Cmd"]
    if isinstance(command, str):
        command = shlex.split(command)
    port = COMPOSE_PORTS.get(name)
    if port and not any(port in argument for argument in command):
        # It would listen where no check looks: say so rather than time out.
        raise ImageError(
            f"docker-compose.yml's {name} command no longer names port {port}: "
            "teach devtools/image_roles.py how it listens now"
        )
    return [setting.on_free_ports(argument) for argument in command]


def start_roles(
    roles: dict[str, ImageRole], setting: Setting, image: str, work: Path
) -> None:
    services, environment = compose_services(), setting.environment()
    user = image_config(image)["User"]
    for role in roles.values():
        ensure_environment_covers(role.name, services[role.name], environment)
        command = role_command(role.name, services[role.name], image, setting)
        say(f"starting {role.name} as user {user}: {shlex.join(command)[:110]}")
        # Docker sets HOSTNAME; compose's worker healthcheck names the node by it.
        role.user, role.environment = user, {**environment, "HOSTNAME": role.hostname}
        role.process = role.container.start(
            command,
            role.environment,
            work / f"{role.name}.log",
            user=user,
            hostname=role.hostname,
        )


def ensure_environment_covers(
    name: str, service: dict[str, Any], environment: dict[str, str]
) -> None:
    """Every variable compose gives a role is given here too (pointed at this host)."""
    missing = sorted(set(service.get("environment", {})) - set(environment))
    if missing:
        raise ImageError(
            f"docker-compose.yml gives {name} {', '.join(missing)}, which "
            "devtools/image_roles.py does not set: add them to Setting.environment"
        )


class Running(Protocol):
    process: ContainerProcess | None


def show_logs(containers: Mapping[str, Running]) -> None:
    for name, container in containers.items():
        if container.process:
            print(f"\n--- {name} log (last lines) ---", file=sys.stderr)
            print(container.process.log()[-3000:], file=sys.stderr, flush=True)
