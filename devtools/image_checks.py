"""The checks of `make image`: what each role started from the image must answer."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from devtools.buildah import ImageError, image_config, say, wait_until
from devtools.image_http import WebClient, fetch
from devtools.image_roles import (
    SITE_HOST,
    ImageRole,
    Setting,
    compose_services,
    postgres_query,
)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def add(self, role: str, text: str) -> None:
        self.lines.append(f"  {role:<7} {text}")
        say(f"{role}: {text}")


def check_roles(
    roles: dict[str, ImageRole], setting: Setting, mail_dir: Path
) -> Report:
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


def check_web(
    role: ImageRole, web: WebClient, setting: Setting, report: Report
) -> None:
    def healthy() -> bool:
        role.running()  # a role that died fails now, not at the deadline
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
    check_metrics(web, setting, report)


def check_metrics(web: WebClient, setting: Setting, report: Report) -> None:
    bearer = {"Authorization": f"Bearer {setting.metrics_token}"}
    scraped = web.request("GET", "/metrics", extra=bearer)
    if web.status("/metrics") != 404 or scraped.status != 200:
        raise ImageError("/metrics must answer 404 without the token, 200 with it")
    if "notifications_oldest_due_age_seconds" not in scraped.body:
        raise ImageError("/metrics does not report the outbox")
    report.add("web", "/metrics: 404 without the bearer token, Prometheus text with it")


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
    report.add("web", f"took a sign-up over HTTP for {address}")
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
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get(path).body)
    if not token:
        raise ImageError("the activation page has no form to confirm with")
    return web.post(path, {"csrfmiddlewaretoken": token.group(1)}).status


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
    response = web.post(
        "/users/sign-up/",
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": address.split("@")[0],
            "first_name": "Image",
            "last_name": "Check",
            "email": address,
            "password1": password,
            "password2": password,
        },
    )
    if response.status != 302:
        raise ImageError(
            f"the sign-up answered {response.status}:\n{response.body[-1500:]}"
        )


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
