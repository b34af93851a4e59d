"""The checks of `make image`: what each role started from the image must answer."""

from __future__ import annotations

import re
import secrets
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from devtools.buildah import ImageError, image_config, say, wait_until
from devtools.image_http import WebClient, fetch
from devtools.image_proxy import Proxy
from devtools.image_roles import (
    COMPOSE_WEB_PORT,
    SITE_HOST,
    ImageRole,
    Setting,
    compose_services,
    postgres_query,
)

# What a client puts in X-Forwarded-For to pass for someone else (TEST-NET-2).
FORGED_ADDRESS = "198.51.100.23"


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def add(self, role: str, text: str) -> None:
        self.lines.append(f"  {role:<7} {text}")
        say(f"{role}: {text}")


def check_roles(
    roles: dict[str, ImageRole], proxy: Proxy, setting: Setting, mail_dir: Path
) -> Report:
    """Every check, web's through the proxy over HTTPS as a browser would."""
    report = Report()
    web = WebClient(proxy.network.inner_address, 443, SITE_HOST, proxy.client_tls)
    check_web(roles["web"], proxy, web, setting, report)
    proxy_log_start = len(proxy.running().log())  # its 502s while web started
    check_proxy(proxy, web, setting, report)
    check_non_root(roles, report)
    check_worker(roles["worker"], setting, report)
    check_flower(roles, setting, report)
    check_email(web, mail_dir, setting, report)
    check_beat(roles, report)
    check_quiet_logs(roles, report)
    check_quiet_proxy(proxy, proxy_log_start, report)
    return report


def check_web(
    role: ImageRole, proxy: Proxy, web: WebClient, setting: Setting, report: Report
) -> None:
    def healthy() -> bool:
        role.running()  # a role that died fails now, not at the deadline
        proxy.running()
        return web.status("/healthz") == 200

    wait_until(
        healthy,
        180,
        "the web role's /healthz to answer 200 through the proxy (migrate, gunicorn)",
    )
    health = web.get("/healthz").body
    report.add("web", f"migrated; gunicorn, through the proxy: /healthz 200 {health}")
    healthcheck = image_config(role.image)["Healthcheck"]["Test"]
    run_healthcheck(role, healthcheck, setting, "the image's HEALTHCHECK")
    report.add("web", f"the image's HEALTHCHECK passes (ALLOWED_HOSTS={SITE_HOST})")
    stylesheet = find_stylesheet(web.get("/users/sign-up/").body)
    if web.status(stylesheet) != 200:
        raise ImageError(f"{stylesheet} is not served: collectstatic or WhiteNoise")
    report.add("web", f"serves the static files collected at build ({stylesheet})")
    check_database_driver(role, report)
    check_metrics(web, setting, report)


# Which driver Django's connection uses, and that the image has no other.
DRIVER_PROBE = """\
import importlib.util, psycopg
from django.db import connection
connection.ensure_connection()
assert importlib.util.find_spec("psycopg2") is None, "psycopg2 is installed"
def release(number): return f"{number // 10000}.{number % 10000}"
print(f"{connection.Database.__name__} {psycopg.__version__} "
      f"({psycopg.pq.__impl__}, libpq {release(psycopg.pq.version())}), "
      f"PostgreSQL {release(connection.pg_version)}")
"""


def check_database_driver(role: ImageRole, report: Report) -> None:
    probe = ["python", "manage.py", "shell", "--no-imports", "-c", DRIVER_PROBE]
    result = role.container.run_command(probe, role.environment, user=role.user)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-2000:]
        raise ImageError(f"the web container's database driver:\n{output}")
    report.add("web", f"talks to PostgreSQL through {result.stdout.strip()}")


def check_metrics(web: WebClient, setting: Setting, report: Report) -> None:
    bearer = {"Authorization": f"Bearer {setting.metrics_token}"}
    scraped = web.request("GET", "/metrics", extra=bearer)
    if web.status("/metrics") != 404 or scraped.status != 200:
        raise ImageError("/metrics must answer 404 without the token, 200 with it")
    if "notifications_oldest_due_age_seconds" not in scraped.body:
        raise ImageError("/metrics does not report the outbox")
    report.add("web", "/metrics: 404 without the bearer token, Prometheus text with it")


def check_proxy(proxy: Proxy, web: WebClient, setting: Setting, report: Report) -> None:
    report.add(
        "proxy",
        f"{proxy.version()} runs deploy/nginx.conf, TLS for {SITE_HOST}",
    )
    check_https_redirect(proxy, report)
    check_hsts(web, setting, report)
    check_client_address(proxy, web, setting, report)
    check_web_only_through_proxy(proxy, report)


def check_https_redirect(proxy: Proxy, report: Report) -> None:
    plain = WebClient(proxy.network.inner_address, 80, SITE_HOST)
    path = "/users/sign-in/?next=/tasks/"
    reply = plain.get(path)
    expected = f"https://{SITE_HOST}{path}"
    if (reply.status, reply.headers["Location"]) != (301, expected):
        raise ImageError(
            f"http://{SITE_HOST}{path} answered {reply.status} to "
            f"{reply.headers['Location']}, not 301 to {expected}"
        )
    report.add("proxy", f"plain HTTP: 301 to {expected}")


def check_hsts(web: WebClient, setting: Setting, report: Report) -> None:
    """HTTPS as the app sees it: no redirect of its own (X-Forwarded-Proto is
    believed), and HSTS as compose's defaults ask."""
    reply = web.get("/users/sign-in/")
    if reply.status != 200:
        raise ImageError(
            f"/users/sign-in/ over HTTPS answered {reply.status} "
            f"(Location {reply.headers['Location']}): X-Forwarded-Proto not believed?"
        )
    seconds = setting.environment()["SECURE_HSTS_SECONDS"]
    expected = f"max-age={seconds}; includeSubDomains; preload"
    sent = reply.headers["Strict-Transport-Security"]
    if sent != expected:
        raise ImageError(f"HSTS over HTTPS is {sent!r}, not {expected!r}")
    report.add(
        "web", f"over HTTPS: 200, no redirect loop; Strict-Transport-Security: {sent}"
    )


def check_client_address(
    proxy: Proxy, web: WebClient, setting: Setting, report: Report
) -> None:
    """The address the lockout counts a failed sign-in under is the client's:
    neither the proxy's (127.0.0.1 in the web network) nor one the client made up."""
    client = proxy.network.host_address
    for forged in ({}, {"X-Forwarded-For": FORGED_ADDRESS}):
        username = failed_sign_in(web, forged)
        counted = recorded_addresses(setting.database, username)
        if counted != [client]:
            raise ImageError(
                f"a failed sign-in from {client} (headers {forged}) was counted "
                f"under {counted}"
            )
    report.add(
        "web",
        f"counts failed sign-ins under the client's address {client}, also when "
        f"it sends X-Forwarded-For: {FORGED_ADDRESS}",
    )


def failed_sign_in(web: WebClient, extra: dict[str, str]) -> str:
    """A wrong password for a made-up account; returns the name it was tried on."""
    username = f"image-check-nobody-{secrets.token_hex(4)}"
    token = csrf_token(web.get("/users/sign-in/").body, "the sign-in page")
    form = {"csrfmiddlewaretoken": token, "username": username, "password": "wrong"}
    reply = web.post("/users/sign-in/", form, extra=extra)
    if reply.status != 200:
        raise ImageError(f"a wrong password answered {reply.status}, not the form")
    return username


def recorded_addresses(database: str, username: str) -> list[str]:
    rows = postgres_query(
        database,
        "SELECT ip_address FROM axes_accessattempt WHERE username = %s",
        (username,),
    )
    return [str(address) for (address,) in rows]


def check_web_only_through_proxy(proxy: Proxy, report: Report) -> None:
    """As in compose, where web publishes no port: from the clients' side, the
    web network answers on the proxy's ports only."""
    address = proxy.network.inner_address
    try:
        socket.create_connection((address, int(COMPOSE_WEB_PORT)), timeout=5).close()
    except ConnectionRefusedError:
        report.add(
            "web",
            f"reachable only through the proxy: {address}:{COMPOSE_WEB_PORT} refuses",
        )
        return
    raise ImageError(f"web answers at {address}:{COMPOSE_WEB_PORT}, past the proxy")


def csrf_token(page: str, what: str) -> str:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        raise ImageError(f"{what} has no CSRF token")
    return token.group(1)


def find_stylesheet(page: str) -> str:
    match = re.search(r'href="(/static/[^"]+\.css)"', page)
    if not match:
        raise ImageError("the sign-up page links no stylesheet under /static/")
    return match.group(1)


def run_healthcheck(
    role: ImageRole, test: list[str] | str, setting: Setting, what: str
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


def check_non_root(roles: dict[str, ImageRole], report: Report) -> None:
    uids = set()
    for role in roles.values():
        role_uids = {process_uid(pid) for pid in role.running().command_pids()}
        if not role_uids or 0 in role_uids:
            raise ImageError(f"the {role.name} role runs as uids {role_uids}")
        uids |= role_uids
    report.add("all", f"{len(roles)} roles run as uid {sorted(uids)} (not root)")


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise ImageError(f"no uid for process {pid}")


def check_worker(worker: ImageRole, setting: Setting, report: Report) -> None:
    def ready() -> bool:
        worker.running()  # a role that died fails now, not at the deadline
        return "ready." in worker.running().log()

    wait_until(ready, 90, "the worker role to be ready")
    test = compose_services()["worker"]["healthcheck"]["test"]
    run_healthcheck(worker, test, setting, "compose's worker healthcheck")
    report.add("worker", "ready; compose's healthcheck (inspect ping) passes")


def check_flower(roles: dict[str, ImageRole], setting: Setting, report: Report) -> None:
    flower, url = roles["flower"], f"http://127.0.0.1:{setting.flower_port}/"

    def refuses_strangers() -> bool:
        flower.running()  # a role that died fails now, not at the deadline
        return fetch(url).status == 401

    wait_until(refuses_strangers, 90, "Flower to answer 401 without credentials")
    if fetch(url, setting.flower_auth).status != 200:
        raise ImageError("Flower refuses its own FLOWER_BASIC_AUTH credentials")
    report.add("flower", "answers 401 without credentials, 200 with them")
    node = f"celery@{roles['worker'].hostname}"
    workers = f"{url}api/workers?refresh=1"
    wait_until(
        lambda: node in fetch(workers, setting.flower_auth).body,
        90,
        f"Flower to list the worker {node}",
        interval=2,
    )
    test = compose_services()["flower"]["healthcheck"]["test"]
    run_healthcheck(flower, test, setting, "compose's flower healthcheck")
    report.add("flower", f"lists the worker role {node}; compose's healthcheck passes")


def check_email(
    web: WebClient, mail_dir: Path, setting: Setting, report: Report
) -> None:
    address = f"image-check-{secrets.token_hex(4)}@example.com"
    sign_up(web, address)
    report.add("web", f"took a sign-up over HTTPS for {address}")
    wait_until(lambda: any(mail_dir.glob("*.eml")), 90, "the activation email")
    message = read_email(next(mail_dir.glob("*.eml")))
    if address not in str(message["To"]):
        raise ImageError(f"the email went to {message['To']}, not {address}")
    report.add("worker", f"delivered {message['Subject']!r} to the SMTP server")
    status = activate(web, activation_path(message, setting))
    if status >= 400 or not account_is_active(setting.database, address):
        raise ImageError(f"the activation link answered {status}; account still off")
    report.add("web", f"the emailed activation link activates the account ({status})")


def activate(web: WebClient, path: str) -> int:
    """Open the link (a page asking), then press its button (a POST)."""
    token = csrf_token(web.get(path).body, "the activation page")
    return web.post(path, {"csrfmiddlewaretoken": token}).status


def account_is_active(database: str, address: str) -> bool:
    rows = postgres_query(
        database, "SELECT is_active FROM users_user WHERE email = %s", (address,)
    )
    return bool(rows and rows[0][0])


def sign_up(web: WebClient, address: str) -> None:
    token = csrf_token(web.get("/users/sign-up/").body, "the sign-up page")
    password = unlike_password()
    response = web.post(
        "/users/sign-up/",
        {
            "csrfmiddlewaretoken": token,
            "username": address.split("@")[0],
            "first_name": "Image",
            "last_name": "Check",
            "email": address,
            "password1": password,
            "password2": password,
        },
    )
    if response.status != 302:
        errors = re.findall(r'class="field-error"><p>(.*?)</p>', response.body)
        said = "; ".join(errors) or response.body[-1500:]
        raise ImageError(f"the sign-up answered {response.status}: {said}")


# Letters that appear in none of the sign-up's other fields (the username, the
# names and the address, hex digits included), so Django's similarity check can
# never refuse the password, as it did about one sign-up in 35 when the password
# shared "image-" and hex digits with the username.
UNLIKE_LETTERS = "NQRSTUVWYZnqrstuvwyz"


def unlike_password() -> str:
    return "".join(secrets.choice(UNLIKE_LETTERS) for _ in range(16)) + "#7"


def read_email(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def activation_path(message: EmailMessage, setting: Setting) -> str:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body else ""
    link = re.search(re.escape(setting.site_origin) + r"(/users/activate/\S+/)", text)
    if not link:
        raise ImageError(f"no activation link to {setting.site_origin} in:\n{text}")
    return link.group(1)


SWEEP_RUN = re.compile(r"Task notifications\.sweep_outbox\[[^\]]+\] succeeded")


def check_beat(roles: dict[str, ImageRole], report: Report) -> None:
    beat, worker = roles["beat"], roles["worker"]
    wait_until(
        lambda: SWEEP_RUN.search(worker.running().log()),
        90,
        "the worker to run the sweep beat sends every 30 s",
        interval=1,
    )
    if "Sending due task" not in beat.running().log():
        raise ImageError("beat's log shows no job sent")
    report.add("beat", "sends the outbox sweep; the worker role runs it")


# What gunicorn, Celery and Django print for a problem, whatever its cause.
LOGGED_PROBLEM = re.compile(r"\[ERROR\]|ERROR/|CRITICAL|Traceback \(most recent")


def check_quiet_logs(roles: dict[str, ImageRole], report: Report) -> None:
    """A role may answer and still fail at something on the side (a socket, a file)."""
    for role in roles.values():
        problems = [
            line
            for line in role.running().log().splitlines()
            if LOGGED_PROBLEM.search(line)
        ]
        if problems:
            raise ImageError(
                f"the {role.name} role logged:\n" + "\n".join(problems[:5])
            )
    report.add("all", "no role logged an error")


# nginx's error log levels from error up.
PROXY_PROBLEM = re.compile(r"\[(error|crit|alert|emerg)\]")


def check_quiet_proxy(proxy: Proxy, since: int, report: Report) -> None:
    """Since web first answered (before, its 502s are expected)."""
    log = proxy.running().log()[since:]
    problems = [line for line in log.splitlines() if PROXY_PROBLEM.search(line)]
    if problems:
        raise ImageError("the proxy logged:\n" + "\n".join(problems[:5]))
    report.add("proxy", "logged no error once web answered")
