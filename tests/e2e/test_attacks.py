"""The attacker's sequences of issue 10, against gunicorn with DEBUG off (two
worker processes sharing nothing but the database and Redis) and a real Celery
worker sending to a real SMTP server."""

from __future__ import annotations

import functools
import http.client
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import pytest
import redis
from django.conf import settings
from pytest_django.fixtures import Settings as DjangoSettings

from bench.client import Session
from devtools.processes import ROOT, Process
from devtools.smtp import SMTPServer, free_port
from notifications.models import Delivery
from tests.factories import UserFactory
from tests.support.processes import LOG_DIR
from users.models import User

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "Str0ng#Pass"
SIGN_UP_LIMIT = 3
ACCESS_LOG = "%(p)s %(m)s %(U)s %(s)s"  # <worker pid>, method, path, status


@dataclass
class Web:
    url: str
    process: Process
    log_start: int = 0  # where this test's part of the access log begins

    def log(self) -> str:
        """The access log since this test began."""
        return self.process.log()[self.log_start :]


@pytest.fixture(scope="module")
def gunicorn(child_env: dict[str, str]) -> Iterator[Web]:
    """gunicorn, two workers, DEBUG off, on the test database and Redis; one for
    the module."""
    env = {
        **child_env, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "False",
        "SESSION_COOKIE_SECURE": "False", "CSRF_COOKIE_SECURE": "False",
        "SECURE_HSTS_SECONDS": "0", "RATELIMIT_ENABLE": "True",
        "RATELIMIT_SIGN_UP": f"{SIGN_UP_LIMIT}/h",
        "FRONTEND_URL": settings.FRONTEND_URL,
    }  # fmt: skip
    collect_static(env)
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "project.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "2",
        "--access-logfile", "-", "--access-logformat", ACCESS_LOG,
    ]  # fmt: skip
    process = Process("attacks-web", command, env, LOG_DIR).start()
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(url, process)
    yield Web(url, process)
    process.stop()


@pytest.fixture
def web(gunicorn: Web, transactional_db: None, broker_url: str) -> Web:
    """The module's gunicorn, with no sign-up counted against any address yet
    (sign-in failures are rows, flushed after each test)."""
    counters = redis.Redis.from_url(broker_url)
    for key in counters.scan_iter("ratelimit:*"):
        counters.delete(key)
    counters.close()
    gunicorn.log_start = len(gunicorn.process.log())
    return gunicorn


def collect_static(env: dict[str, str]) -> None:
    """DEBUG off serves the collected, hashed static files (WhiteNoise)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, check=True, timeout=120,
    )  # fmt: skip


def wait_until_answering(url: str, process: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/users/sign-in/", timeout=2)  # noqa: S310
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            assert process.popen.poll() is None, process.log()
            assert time.monotonic() < deadline, process.log()
            time.sleep(0.2)


def sign_in(session: Session, username: str, password: str, path: str) -> int:
    fields = [("username", username), ("password", password)]
    if path.startswith("/admin/"):
        fields.append(("next", "/admin/"))
    return session.post(path, fields).status


def is_signed_in(session: Session) -> bool:
    return session.get("/tasks/").status == 200


@pytest.mark.parametrize("path", ["/users/sign-in/", "/admin/login/"])
def test_20_wrong_passwords_then_the_right_one_does_not_sign_in(
    web: Web, path: str
) -> None:
    UserFactory(username="target", password=PASSWORD, is_staff=True, is_superuser=True)
    attacker = Session(web.url)
    answers = [sign_in(attacker, "target", f"Guess#{n:04d}", path) for n in range(20)]
    final = sign_in(attacker, "target", PASSWORD, path)
    assert final == 429
    assert not is_signed_in(attacker)
    assert answers[:4] == [200] * 4 and answers[-1] == 429
    # Locked per account too: the right password from a fresh session fails.
    assert sign_in(Session(web.url), "target", PASSWORD, path) == 429


class FromAddress(urllib.request.HTTPHandler):
    """Connects from another loopback address: 127.0.0.0/8 is all this machine,
    so each is a client of its own to the server (REMOTE_ADDR)."""

    handler_order = 499  # ahead of urllib's own HTTPHandler

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connect = functools.partial(
            http.client.HTTPConnection, source_address=(self.source, 0)
        )
        return self.do_open(connect, req)


@pytest.fixture
def web_hashes(settings: DjangoSettings) -> None:
    """Passwords hashed as gunicorn (project.settings) checks them: the suite's
    fast MD5 hasher is not among the product's."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def session_from(web: Web, address: str) -> Session:
    session = Session(web.url)
    session._opener.add_handler(FromAddress(address))
    return session


@pytest.mark.parametrize("path", ["/users/sign-in/", "/admin/login/"])
def test_signing_in_to_ones_own_account_never_lifts_the_lockout_on_another(
    web: Web, web_hashes: None, path: str
) -> None:
    """Issue 24: "4 wrong passwords for admin, 1 right one for myself", looped."""
    UserFactory(username="boss", password=PASSWORD, is_staff=True, is_superuser=True)
    UserFactory(username="mallory", password=PASSWORD)
    guesses: list[int] = []
    for round_ in range(4):
        attacker = session_from(web, "127.0.0.2")
        guesses += [
            sign_in(attacker, "boss", f"Guess#{round_}{n}", path) for n in range(4)
        ]
        assert sign_in(attacker, "mallory", PASSWORD, "/users/sign-in/") == 302
    assert guesses[:4] == [200] * 4
    assert set(guesses[5:]) == {429}, guesses
    attacker = session_from(web, "127.0.0.2")
    assert sign_in(attacker, "boss", PASSWORD, path) == 429
    assert not User.objects.get(username="boss").last_login
    # The Admin, at their own address, signs in.
    admin = session_from(web, "127.0.0.3")
    assert sign_in(admin, "boss", PASSWORD, path) == 302


def test_a_few_tries_from_elsewhere_do_not_lock_a_person_out(
    web: Web, web_hashes: None
) -> None:
    UserFactory(username="target", password=PASSWORD)
    for address in ("127.0.0.2", "127.0.0.4", "127.0.0.5"):
        stranger = session_from(web, address)
        answers = [sign_in(stranger, "target", "Guess#1", "/users/sign-in/")
                   for _ in range(6)]  # fmt: skip
        assert answers[-1] == 429
    owner = session_from(web, "127.0.0.3")
    assert sign_in(owner, "target", PASSWORD, "/users/sign-in/") == 302
    assert owner.get("/users/profile/").status == 200


def sign_up(url: str, index: int) -> int:
    name = f"visitor{index}"
    return Session(url).post("/users/sign-up/", [
        ("username", name), ("first_name", "Vi"), ("last_name", "Sitor"),
        ("email", f"{name}@example.com"), ("password1", PASSWORD),
        ("password2", PASSWORD),
    ]).status  # fmt: skip


def sign_up_pids(web: Web) -> set[str]:
    """The gunicorn processes that answered a sign-up in this test."""
    return set(re.findall(r"^<(\d+)> POST /users/sign-up/ \d+$", web.log(), re.M))


def test_the_sign_up_limit_holds_across_gunicorn_processes(web: Web) -> None:
    """Each process counting alone would let up to 3 through per process: once
    both have served and more than 3 were sent, more than 3 would get through.

    Sign-ups go in pairs at once: one after another, the kernel may hand every
    connection to the same idle process; while one process is busy with a
    request, the other must take the second."""
    answers: list[int] = []

    def both_served_past_the_limit() -> bool:
        served = len(sign_up_pids(web)) == 2
        return served and len(answers) > SIGN_UP_LIMIT

    with ThreadPoolExecutor(max_workers=2) as pool:
        while not both_served_past_the_limit() and len(answers) < 60:
            pair = (len(answers), len(answers) + 1)
            answers += pool.map(lambda index: sign_up(web.url, index), pair)
    assert len(sign_up_pids(web)) == 2, "one process served every request"
    assert answers.count(302) == SIGN_UP_LIMIT
    assert answers.count(429) == len(answers) - SIGN_UP_LIMIT


def activation_link(smtp: SMTPServer, address: str) -> SplitResult:
    deadline = time.monotonic() + 30
    while not smtp.sink.messages_to(address):
        assert time.monotonic() < deadline, "no activation email"
        time.sleep(0.1)
    [message] = smtp.sink.messages_to(address)
    return urlsplit(re.search(r"https?://\S+/users/activate/\S+/", message.body())[0])


def test_a_deactivated_account_stays_off_whatever_is_tried(
    web: Web, worker: Process, smtp_server: SMTPServer
) -> None:
    mallory = Session(web.url)
    mallory.post("/users/sign-up/", [
        ("username", "mallory"), ("first_name", "Mal"), ("last_name", "Lory"),
        ("email", "mallory@example.com"), ("password1", PASSWORD),
        ("password2", PASSWORD),
    ])  # fmt: skip
    old_link = activation_link(smtp_server, "mallory@example.com").path
    assert mallory.post(old_link, []).status == 302
    account = User.objects.get(username="mallory")
    account.is_active = False  # an Admin switches the account off
    account.save()

    resend = mallory.post(
        "/users/activation/resend/", [("email", "MALLORY@example.com")]
    )
    link_again = mallory.get(old_link)
    signing_in = mallory.post(
        "/users/sign-in/", [("username", "mallory"), ("password", PASSWORD)]
    )
    # A later sign-up's email arrives: the worker had its chance to send a resend.
    Session(web.url).post("/users/sign-up/", [
        ("username", "witness"), ("first_name", "Wit"), ("last_name", "Ness"),
        ("email", "witness@example.com"), ("password1", PASSWORD),
        ("password2", PASSWORD),
    ])  # fmt: skip
    activation_link(smtp_server, "witness@example.com")

    assert resend.status == 302  # the same answer as for any address
    assert link_again.status == 403 and "deactivated" in link_again.body
    assert "has been deactivated" in signing_in.body
    assert len(smtp_server.sink.messages_to("mallory@example.com")) == 1
    kinds = Delivery.objects.filter(recipient=account).values_list("kind", flat=True)
    assert list(kinds) == [Delivery.Kind.ACTIVATION]
    assert not User.objects.get(username="mallory").is_active


def emailed_link(smtp: SMTPServer, address: str, route: str) -> SplitResult:
    """The link to `route` in an email the worker sent to `address`."""
    pattern = rf"https?://\S+{re.escape(route)}\S+/"
    deadline = time.monotonic() + 30
    while True:
        found = [re.search(pattern, m.body()) for m in smtp.sink.messages_to(address)]
        if links := [match[0] for match in found if match]:
            return urlsplit(links[-1])
        assert time.monotonic() < deadline, f"no email to {address} with {route}"
        time.sleep(0.1)


def test_the_owner_takes_back_an_account_moved_to_another_mailbox(
    web: Web, web_hashes: None, worker: Process, smtp_server: SMTPServer
) -> None:
    """Issue 24: whoever has the password moves the account to their own mailbox;
    once the move is done, the address it left is told and takes it back."""
    UserFactory(username="ada", email="ada@owner.example", password=PASSWORD)
    thief = Session(web.url)
    thief.sign_in("ada", PASSWORD)
    asked = thief.post(
        "/users/profile/email/",
        [("email", "ada@thief.example"), ("password", PASSWORD)],
    )
    assert asked.status == 302
    confirm = emailed_link(smtp_server, "ada@thief.example", "/users/email/confirm/")
    assert thief.post(confirm.path, []).status == 200
    restore = emailed_link(smtp_server, "ada@owner.example", "/users/email/restore/")

    owner = Session(web.url)
    assert owner.get(restore.path).status == 200  # a mail scanner changes nothing
    assert User.objects.get(username="ada").email == "ada@thief.example"
    done = owner.post(restore.path, [])
    assert "Your account has its address back" in done.body
    assert User.objects.get(username="ada").email == "ada@owner.example"
    assert not is_signed_in(thief)
    assert sign_in(thief, "ada", PASSWORD, "/users/sign-in/") == 200

    new_password = "Own3r#Again"
    choose = re.search(r'href="(/users/password-reset/[^"]+)"', done.body)[1]
    form = owner.get(choose).location  # the token moves to the session
    fields = [("new_password1", new_password), ("new_password2", new_password)]
    assert owner.post(form, fields).status == 302
    assert sign_in(Session(web.url), "ada", new_password, "/users/sign-in/") == 302
    assert thief.post(confirm.path, []).status == 400
    assert owner.post(restore.path, []).status == 400
    assert User.objects.get(username="ada").email == "ada@owner.example"
