"""`make image`: build the production image here and start every role from it.

No Docker engine runs on these machines and no registry can be reached, but
buildah with `--isolation chroot` builds and runs images. So, in order:

1. the base: a stand-in for python:3.11-slim-bookworm from Debian's packages
   (devtools/base_image.py, cached between runs);
2. the build: the project's Dockerfile on that base (`--build-arg BASE_IMAGE`);
3. the roles, each in its own container from the built image, as the image's
   non-root user, on the host's network, with the commands of docker-compose.yml
   (moved to free loopback ports): web (migrate, then gunicorn), worker, beat and
   Flower, against the host's PostgreSQL (a database of their own), a private
   Redis and a local SMTP server;
4. the checks: /healthz and the image's own HEALTHCHECK, static files, a real
   sign-up whose activation email the worker role delivers and whose link then
   activates the account, beat's sweep run by the worker, the compose
   healthchecks of worker and Flower, Flower's 401 and 200.

Every process, container and database it starts is stopped and removed whatever
happens. It exits non-zero, saying what failed, when any step fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import FrameType

import psycopg2
import yaml

from devtools.base_image import ensure_base_image
from devtools.buildah import (
    Container,
    ContainerProcess,
    ImageError,
    buildah,
    say,
    wait_until,
)
from devtools.image_http import WebClient, fetch
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import MailSink, SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent
IMAGE_NAME = "localhost/taskmanager:image-check"
ROLES = ("web", "worker", "beat", "flower")
# Names a real deployment's domain would take; `.test` never resolves anywhere.
SITE_HOST = "tasks.image-check.test"
# The egress of these machines re-signs TLS: pip in the build trusts the host's
# bundle for its RUN steps only; the image keeps Debian's own certificates.
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Where compose's roles listen, replaced by free loopback ports on the host network.
COMPOSE_WEB_PORT, COMPOSE_FLOWER_PORT = "8000", "5555"
TOOLS = {"buildah": "buildah", "debootstrap": "debootstrap", "chroot": "coreutils"}


@dataclass
class Setting:
    """Everything the roles share: ports, credentials, the environment they get."""

    database: str
    redis_port: int
    smtp_port: int
    web_port: int = field(default_factory=free_port)
    flower_port: int = field(default_factory=free_port)
    flower_auth: str = field(
        default_factory=lambda: f"image-check:{secrets.token_urlsafe(16)}"
    )
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    @property
    def site_origin(self) -> str:
        return f"http://{SITE_HOST}:{self.web_port}"

    def environment(self) -> dict[str, str]:
        """What compose's `x-app` environment gives the roles, pointed at this host."""
        pg = postgres_address()
        return {
            "SECRET_KEY": self.secret_key,
            "DEBUG": "False",
            "ALLOWED_HOSTS": SITE_HOST,
            "CSRF_TRUSTED_ORIGINS": self.site_origin,
            "FRONTEND_URL": self.site_origin,
            # Plain HTTP on loopback, as compose's defaults without a TLS proxy.
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "DB_NAME": self.database,
            "DB_USER": pg["user"],
            "DB_PASSWORD": "",
            "DB_HOST": pg["host"],
            "DB_PORT": pg["port"],
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_USE_TLS": "False",
            "DEFAULT_FROM_EMAIL": "Tasks <noreply@example.com>",
            "FLOWER_BASIC_AUTH": self.flower_auth,
        }

    def on_free_ports(self, argument: str) -> str:
        """A compose command or healthcheck moved to loopback and this run's ports."""
        return (
            argument.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 (replaced, not bound)
            .replace(COMPOSE_WEB_PORT, str(self.web_port))
            .replace(COMPOSE_FLOWER_PORT, str(self.flower_port))
        )


@dataclass
class Role:
    name: str
    image: str
    container: Container
    hostname: str
    user: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    process: ContainerProcess | None = None


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def add(self, role: str, text: str) -> None:
        self.lines.append(f"  {role:<7} {text}")
        say(f"{role}: {text}")


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_signal)
    started = time.monotonic()
    try:
        check_tools()
        base = ensure_base_image()
        image = build_image(base)
        built = describe_image(image, base)
        report = run_roles(image)
    except ImageError as error:
        print(f"\nIMAGE CHECK FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    print(f"\n[image] built: {built}", flush=True)
    print("[image] roles started from it, each answering:", flush=True)
    print("\n".join(report.lines), flush=True)
    print(f"[image] passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds every clean-up


def check_tools() -> None:
    missing = [
        package
        for tool, package in TOOLS.items()
        if subprocess.run(["which", tool], capture_output=True).returncode
    ]
    if missing:
        raise ImageError(f"missing tools: apt-get install {' '.join(missing)}")
    if os.geteuid() != 0:
        raise ImageError("debootstrap and buildah's chroot isolation need root")


# --- the build ---------------------------------------------------------------


def build_image(base: str) -> str:
    """The Dockerfile built on `base`; returns the image id."""
    started = time.monotonic()
    say(f"building Dockerfile FROM {base} as {IMAGE_NAME}")
    with tempfile.TemporaryDirectory(prefix="taskmanager-build-") as scratch:
        id_file, log_path = Path(scratch, "id"), Path(scratch, "build.log")
        command = [
            "buildah", "bud", "--isolation=chroot", "--network=host",
            "--format=docker", "--layers", "--pull=never",
            f"--build-arg=BASE_IMAGE={base}",
            f"--volume={HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro",
            f"--iidfile={id_file}", "--tag", IMAGE_NAME, "--file", "Dockerfile", ".",
        ]  # fmt: skip
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
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for line in build.stdout or ():
            log.write(line)
            if line.startswith(("STEP ", "--> Using cache")):
                print(f"    {line.rstrip()[:150]}", flush=True)
        return build.wait()


def image_config(image: str) -> dict:
    inspected = json.loads(buildah("inspect", "--type", "image", image, capture=True))
    return inspected["Docker"]["config"]


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


def run_roles(image: str) -> Report:
    with (
        ExitStack() as stack,
        tempfile.TemporaryDirectory(prefix="taskmanager-image-") as scratch,
    ):
        work = Path(scratch)
        setting = Setting(
            database=stack.enter_context(scratch_database()),
            redis_port=stack.enter_context(private_redis()),
            smtp_port=stack.enter_context(smtp_server(work / "mail")),
        )
        roles = {
            name: stack.enter_context(role_container(image, name)) for name in ROLES
        }
        try:
            start_roles(roles, setting, image, work)
            return check_roles(roles, setting, work / "mail")
        except (ImageError, OSError) as error:
            show_logs(roles)
            raise ImageError(str(error)) from error


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
) -> list[tuple]:
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
def private_redis() -> Iterator[int]:
    with EmbeddedRedis(free_port()) as redis:
        say(f"private Redis on 127.0.0.1:{redis.port}")
        yield redis.port


@contextmanager
def smtp_server(save_dir: Path) -> Iterator[int]:
    with SMTPServer(MailSink(save_dir=save_dir)) as server:
        say(f"SMTP server on 127.0.0.1:{server.port}, mail saved in {save_dir}")
        yield server.port


@contextmanager
def role_container(image: str, name: str) -> Iterator[Role]:
    hostname = f"{name}-{os.getpid()}"
    container = Container(image, f"taskmanager-image-{hostname}")
    role = Role(name, image, container, hostname)
    try:
        yield role
    finally:
        if role.process:
            role.process.stop()
        role.container.remove()


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def role_command(service: dict, image: str, setting: Setting) -> list[str]:
    command = service.get("command") or image_config(image)["Cmd"]
    if isinstance(command, str):
        command = shlex.split(command)
    return [setting.on_free_ports(argument) for argument in command]


def start_roles(
    roles: dict[str, Role], setting: Setting, image: str, work: Path
) -> None:
    services, environment = compose_services(), setting.environment()
    user = image_config(image)["User"]
    for role in roles.values():
        command = role_command(services[role.name], image, setting)
        say(f"starting {role.name} as user {user}: {shlex.join(command)[:110]}")
        # Docker sets HOSTNAME; compose's worker healthcheck names the node by it.
        role.user, role.environment = user, {**environment, "HOSTNAME": role.hostname}
        role.process = role.container.start(
            command, role.environment, work / f"{role.name}.log",
            user=user, hostname=role.hostname,
        )  # fmt: skip
    ensure_listening_on_free_ports(roles, setting)


def ensure_listening_on_free_ports(roles: dict[str, Role], setting: Setting) -> None:
    """A compose command no longer naming its port would listen where we do not look."""
    for name, port in (("web", setting.web_port), ("flower", setting.flower_port)):
        process = roles[name].process
        if process and str(port) not in " ".join(process.popen.args):
            raise ImageError(
                f"docker-compose.yml's {name} command does not name port "
                f"{COMPOSE_WEB_PORT if name == 'web' else COMPOSE_FLOWER_PORT}: "
                "update devtools/image.py with the new way it listens"
            )


def show_logs(roles: dict[str, Role]) -> None:
    for role in roles.values():
        if role.process:
            print(f"\n--- {role.name} log (last lines) ---", file=sys.stderr)
            print(role.process.log()[-3000:], file=sys.stderr, flush=True)


# --- the checks --------------------------------------------------------------


def check_roles(roles: dict[str, Role], setting: Setting, mail_dir: Path) -> Report:
    report = Report()
    web = WebClient("127.0.0.1", setting.web_port, f"{SITE_HOST}:{setting.web_port}")
    check_web(roles["web"], web, setting, report)
    check_non_root(roles, report)
    check_worker(roles["worker"], setting, report)
    check_flower(roles, setting, report)
    check_email(web, mail_dir, setting, report)
    check_beat(roles, report)
    check_quiet_logs(roles, report)
    return report


def check_web(role: Role, web: WebClient, setting: Setting, report: Report) -> None:
    def healthy() -> bool:
        ensure_running(role)
        return web.status("/healthz") == 200

    wait_until(
        healthy, 180, "the web role's /healthz to answer 200 (migrate, gunicorn)"
    )
    report.add("web", f"migrated; gunicorn: /healthz 200 {web.get('/healthz').body}")
    healthcheck = image_config(role.image)["Healthcheck"]["Test"]
    run_healthcheck(role, healthcheck, setting, "the image's HEALTHCHECK")
    report.add("web", f"the image's HEALTHCHECK passes (ALLOWED_HOSTS={SITE_HOST})")
    stylesheet = find_stylesheet(web.get("/users/sign-up/").body)
    if web.status(stylesheet) != 200:
        raise ImageError(f"{stylesheet} is not served: collectstatic or WhiteNoise")
    report.add("web", f"serves the static files collected at build ({stylesheet})")


def find_stylesheet(page: str) -> str:
    match = re.search(r'href="(/static/[^"]+\.css)"', page)
    if not match:
        raise ImageError("the sign-up page links no stylesheet under /static/")
    return match.group(1)


def run_healthcheck(
    role: Role, test: list[str] | str, setting: Setting, what: str
) -> None:
    """Run a Docker or compose healthcheck test in the role's container."""
    command = [setting.on_free_ports(part) for part in healthcheck_command(test)]
    result = role.container.run_command(command, role.environment, user=role.user)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-2000:]
        raise ImageError(f"{what} fails in the {role.name} container:\n{output}")


def healthcheck_command(test: list[str] | str) -> list[str]:
    if isinstance(test, str):  # compose's string form is CMD-SHELL
        return ["/bin/sh", "-c", test]
    kind, *rest = test
    if kind == "CMD-SHELL":
        # compose writes a literal $ as $$; the shell in the container expands it.
        return ["/bin/sh", "-c", rest[0].replace("$$", "$")]
    return rest


def check_non_root(roles: dict[str, Role], report: Report) -> None:
    uids = set()
    for role in roles.values():
        ensure_running(role)
        role_uids = {process_uid(pid) for pid in role.process.command_pids()}
        if not role_uids or 0 in role_uids:
            raise ImageError(f"the {role.name} role runs as uids {role_uids}")
        uids |= role_uids
    report.add("all", f"{len(roles)} roles run as uid {sorted(uids)} (not root)")


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise ImageError(f"no uid for process {pid}")


def check_worker(worker: Role, setting: Setting, report: Report) -> None:
    def ready() -> bool:
        ensure_running(worker)
        return "ready." in worker.process.log()

    wait_until(ready, 90, "the worker role to be ready")
    test = compose_services()["worker"]["healthcheck"]["test"]
    run_healthcheck(worker, test, setting, "compose's worker healthcheck")
    report.add("worker", "ready; compose's healthcheck (inspect ping) passes")


def check_flower(roles: dict[str, Role], setting: Setting, report: Report) -> None:
    flower, url = roles["flower"], f"http://127.0.0.1:{setting.flower_port}/"

    def refuses_strangers() -> bool:
        ensure_running(flower)
        return fetch(url).status == 401

    wait_until(refuses_strangers, 90, "Flower to answer 401 without credentials")
    if fetch(url, setting.flower_auth).status != 200:
        raise ImageError("Flower refuses its own FLOWER_BASIC_AUTH credentials")
    report.add("flower", "answers 401 without credentials, 200 with them")
    node = f"celery@{roles['worker'].hostname}"
    workers = f"{url}api/workers?refresh=1"
    wait_until(
        lambda: node in fetch(workers, setting.flower_auth).body,
        90, f"Flower to list the worker {node}", interval=2,
    )  # fmt: skip
    test = compose_services()["flower"]["healthcheck"]["test"]
    run_healthcheck(flower, test, setting, "compose's flower healthcheck")
    report.add("flower", f"lists the worker role {node}; compose's healthcheck passes")


def check_email(
    web: WebClient, mail_dir: Path, setting: Setting, report: Report
) -> None:
    address = f"image-check-{secrets.token_hex(4)}@example.com"
    sign_up(web, address)
    report.add("web", f"took a sign-up over HTTP for {address}")
    wait_until(lambda: any(mail_dir.glob("*.eml")), 90, "the activation email")
    message = read_email(next(mail_dir.glob("*.eml")))
    if address not in str(message["To"]):
        raise ImageError(f"the email went to {message['To']}, not {address}")
    report.add("worker", f"delivered {message['Subject']!r} to the SMTP server")
    status = web.status(activation_path(message, setting))
    if status >= 400 or not account_is_active(setting.database, address):
        raise ImageError(f"the activation link answered {status}; account still off")
    report.add("web", f"the emailed activation link activates the account ({status})")


def account_is_active(database: str, address: str) -> bool:
    rows = postgres_query(
        database, "SELECT is_active FROM users_user WHERE email = %s", (address,)
    )
    return bool(rows and rows[0][0])


def sign_up(web: WebClient, address: str) -> None:
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get("/users/sign-up/").body
    )
    if not token:
        raise ImageError("the sign-up page has no CSRF token")
    password = f"Image-{secrets.token_hex(6)}-9!"
    response = web.post("/users/sign-up/", {
        "csrfmiddlewaretoken": token.group(1), "username": address.split("@")[0],
        "first_name": "Image", "last_name": "Check", "email": address,
        "password1": password, "password2": password,
    })  # fmt: skip
    if response.status != 302:
        raise ImageError(
            f"the sign-up answered {response.status}:\n{response.body[-1500:]}"
        )


def read_email(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def activation_path(message: EmailMessage, setting: Setting) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(re.escape(setting.site_origin) + r"(/users/activate/\S+/)", text)
    if not link:
        raise ImageError(f"no activation link to {setting.site_origin} in:\n{text}")
    return link.group(1)


SWEEP_RUN = re.compile(r"Task notifications\.sweep_outbox\[[^\]]+\] succeeded")


def check_beat(roles: dict[str, Role], report: Report) -> None:
    beat, worker = roles["beat"], roles["worker"]
    wait_until(
        lambda: SWEEP_RUN.search(worker.process.log()),
        90, "the worker to run the sweep beat sends every 30 s", interval=1,
    )  # fmt: skip
    if "Sending due task" not in beat.process.log():
        raise ImageError("beat's log shows no job sent")
    report.add("beat", "sends the outbox sweep; the worker role runs it")


# What gunicorn, Celery and Django print for a problem, whatever its cause.
LOGGED_PROBLEM = re.compile(r"\[ERROR\]|ERROR/|CRITICAL|Traceback \(most recent")


def check_quiet_logs(roles: dict[str, Role], report: Report) -> None:
    """A role may answer and still fail at something on the side (a socket, a file)."""
    for role in roles.values():
        problems = [
            line
            for line in role.process.log().splitlines()
            if LOGGED_PROBLEM.search(line)
        ]
        if problems:
            raise ImageError(
                f"the {role.name} role logged:\n" + "\n".join(problems[:5])
            )
    report.add("all", "no role logged an error")


def ensure_running(role: Role) -> None:
    if role.process is None or role.process.exited():
        raise ImageError(f"the {role.name} role exited")


if __name__ == "__main__":
    sys.exit(main())
