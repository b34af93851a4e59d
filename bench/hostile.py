"""`make chaos` run 5: 200 hostile form submissions, and the header-injection check.

Each submission is (label, anonymous, method, path, fields). Some are valid but
nasty (CRLF and Unicode line separators in titles and names), so their emails go
out and can be inspected; the rest must be refused with a form error, never a 500.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from bench.chaos_results import HostileForms
from bench.client import Session
from bench.data import throwaway_password
from bench.forms import manager_session
from bench.inbox import wait_until
from bench.rows import last_delivery_id
from devtools.smtp import Received

if TYPE_CHECKING:
    from bench.rig import Rig
    from users.models import User

Submission = tuple[str, bool, str, str, list[tuple[str, str]]]
EVIL = "evil.example"
INJECTIONS = [
    f"Hello\r\nBcc: victim@{EVIL}",
    "Hi\nX-Injected: yes",
    f"Line\rCc: cc@{EVIL}",
    "Sep\u2028X-Injected: yes",
    "Para\u2029X-Injected: yes",
    f"%0d%0aBcc: encoded@{EVIL}",
    f"=?utf-8?q?x?=\r\nBcc: mime@{EVIL}",
    "Next\x85X-Injected: yes",
    "Tab\r\n\tX-Injected: folded",
    "\r\n\r\n<body>early body</body>",
]
UNICODE = [
    "Café ☕ — naïve résumé",
    "日本語のタスク",
    "\u202eevil\u202c reversed",
    "Z\u0351\u0363a\u0364l\u0352g\u0313o",
    "👩‍💻🚀✅",
    "עברית ועוד",
]
LONG = "x" * 10_000
PASSWORD = throwaway_password()
INVALID_EMAILS = [
    "not-an-email",
    "a@b",
    "@example.com",
    "user@",
    "user@@example.com",
    f"a@example.com\r\nBcc: x@{EVIL}",
    f"a@example.com,b@{EVIL}",
    "x" * 300 + "@example.com",
    "user@exa mple.com",
    "<script>@example.com",
]


def hostile_forms(rig: Rig, web_url: str) -> HostileForms:
    """Every submission over HTTP; then every email they led to, inspected."""
    from notifications.models import Delivery

    print("Run 5: 200 hostile form submissions", flush=True)
    watermark = last_delivery_id()
    start = len(rig.smtp.received)
    submissions = hostile_submissions(rig.project.pk, rig.people[:5], rig.manager)
    statuses, errors = submit(web_url, submissions)
    recorded = Delivery.objects.filter(id__gt=watermark)
    pending = (Delivery.Status.QUEUED, Delivery.Status.SENDING)
    wait_until(lambda: not recorded.filter(status__in=pending).exists(), 90, 0.3)
    received = list(rig.smtp.received)[start:]
    wanted = set(
        recorded.exclude(status__in=("failed", "skipped")).values_list(
            "message_id", flat=True
        )
    )
    copies = Counter(m.message_id for m in received if m.message_id in wanted)
    return HostileForms(
        submissions=len(submissions),
        statuses=dict(sorted(statuses.items())),
        errors=errors,
        outcomes=dict(Counter(recorded.values_list("status", flat=True))),
        messages=len(received),
        injected=[finding for item in received for finding in injected_headers(item)],
        expected=len(wanted),
        accepted=len(copies),
        duplicated=sum(n - 1 for n in copies.values()),
    )


def submit(
    web_url: str, submissions: list[Submission]
) -> tuple[Counter[int], list[str]]:
    """HTTP answers by status, and the submissions answered 5xx."""
    session = manager_session(web_url)
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    for label, anonymous, method, path, fields in submissions:
        client = Session(web_url) if anonymous else session
        answer = client.post(path, fields) if method == "POST" else client.get(path)
        statuses[answer.status] += 1
        if answer.status >= 500:
            errors.append(f"{label}: {answer.status}")
    return statuses, errors


def hostile_submissions(
    project_id: int, people: Sequence[User], manager: User
) -> list[Submission]:
    items = task_creates(project_id, people)
    items += sign_ups(people)
    items += tampered_links(manager, people)
    items += email_forms("/users/password-reset/", people)
    items += email_forms("/users/activation/resend/", people)
    return items


def task_creates(project_id: int, people: Sequence[User]) -> list[Submission]:
    titles = INJECTIONS + UNICODE + [LONG, "\x00null", "", " ", "<script>x</script>"]
    items: list[Submission] = []
    for index in range(50):
        title = titles[index % len(titles)]
        description = LONG if index % 3 == 0 else INJECTIONS[index % len(INJECTIONS)]
        fields = [
            ("title", title),
            ("description", description),
            ("due_date", "2031-02-30" if index % 17 == 5 else "2031-01-15"),
            ("project", str(project_id) if index % 13 else "999999"),
            ("status", "PENDING" if index % 11 else "HACKED"),
            ("priority", "H" if index % 9 else "Z"),
            ("notes", LONG if index % 2 else UNICODE[index % len(UNICODE)]),
            ("assigned_to", str(people[index % len(people)].pk)),
        ]
        if index % 10 == 7:
            fields.append(("assigned_to", "not-a-number"))
        items.append((f"task create #{index}", False, "POST", "/tasks/create/", fields))
    return items


def sign_ups(people: Sequence[User]) -> list[Submission]:
    items: list[Submission] = []
    for index in range(60):
        name = f"hostile{index}"
        email, first, last = f"{name}@example.com", "Eve", "Mallory"
        password2 = PASSWORD
        group = index // 10
        if group == 0:  # valid accounts with nasty names: their email goes out
            first = INJECTIONS[index % len(INJECTIONS)][:150]
            last = UNICODE[index % len(UNICODE)]
        elif group == 1:
            email = INVALID_EMAILS[index % len(INVALID_EMAILS)]
        elif group == 2:  # duplicates of existing addresses, in another case
            email = people[index % len(people)].email.upper()
        elif group == 3:
            name, first, last = LONG, LONG, LONG
        elif group == 4:
            email = f"{name}@example.com\r\nBcc: {name}@{EVIL}"
        else:  # weak or mismatched passwords, null bytes
            password2 = "mismatch" if index % 2 else PASSWORD
            name = f"{name}\x00" if index % 3 == 0 else name
        fields = [
            ("username", name),
            ("first_name", first),
            ("last_name", last),
            ("email", email),
            ("password1", PASSWORD),
            ("password2", password2),
        ]
        items.append((f"sign-up #{index}", True, "POST", "/users/sign-up/", fields))
    return items


def tampered_links(manager: User, people: Sequence[User]) -> list[Submission]:
    uids = [urlsafe_base64_encode(force_bytes(user.pk)) for user in [manager, *people]]
    reset_token = default_token_generator.make_token(people[0])  # the wrong generator
    forged = [
        ("MQ", "set-token"),
        ("AAAA", "1-1"),
        ("%FF%FE", "x"),
        (base64.urlsafe_b64encode(b"99999999999999999999999").decode(), "a-b"),
        ("x" * 2000, "y" * 2000),
        ("w6k", "é-é"),
        ("LTE", "abc-def"),
    ]
    items: list[Submission] = []
    for index in range(50):
        if index < len(forged):
            uid, token = forged[index]
        elif index % 3 == 0:
            uid, token = uids[index % len(uids)], reset_token
        elif index % 3 == 1:
            uid, token = uids[index % len(uids)], f"{secrets.token_hex(3)}-{LONG[:40]}"
        else:
            uid, token = uids[index % len(uids)], f"cmbqj0-{secrets.token_hex(16)}"
        path = quote(f"/users/activate/{uid}/{token}/", safe="/%")
        items.append((f"activation link #{index}", True, "GET", path, []))
    return items


def email_forms(path: str, people: Sequence[User]) -> list[Submission]:
    addresses = [
        *INVALID_EMAILS,
        people[0].email,
        people[1].email.upper(),
        LONG,
        f"{people[2].email}\nBcc: x@{EVIL}",
        "ünïcødé@example.com",
        "\u202e@example.com",
        "",
        " ",
        "nobody@example.com",
        people[3].email,
    ]
    return [
        (f"{path} #{index}", True, "POST", path, [("email", addresses[index])])
        for index in range(20)
    ]


# Inspecting what arrived -------------------------------------------------------------

HEADER_NAME = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)
ONCE = {b"subject", b"to", b"from", b"message-id", b"date"}


def header_block(raw: bytes) -> bytes:
    raw = raw.replace(b"\r\n", b"\n")
    return raw.split(b"\n\n", 1)[0]


def injected_headers(item: Received) -> list[str]:
    """Findings for one accepted message: injected headers or recipients."""
    findings = []
    names = [name.lower() for name in HEADER_NAME.findall(header_block(item.raw))]
    for name in (b"bcc", b"cc", b"x-injected"):
        if name in names:
            findings.append(f"{item.message_id}: header {name.decode()} present")
    for name in ONCE:
        if names.count(name) > 1:
            findings.append(f"{item.message_id}: {names.count(name)} {name.decode()}")
    for address in item.rcpt_tos:
        if EVIL in address or address.lower().startswith("victim"):
            findings.append(f"{item.message_id}: envelope recipient {address}")
    if EVIL in str(item.message.get("To", "")):
        findings.append(f"{item.message_id}: To names {EVIL}")
    return findings
