"""Every page of the product, per role, on a small seeded world.

The accessibility, layout and keyboard tests walk these lists. A page is a URL,
or a URL and the button to press there with the form left empty or wrong, to
see the form shown with its errors.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from notifications.models import Delivery, Suppression
from notifications.mutes import mute_token
from notifications.preferences import unsubscribe_token
from tasks.activity import add_comment
from tasks.models import Task
from tests.factories import (
    DeliveryFactory,
    ProjectFactory,
    TaskDetailFactory,
    UserFactory,
)
from tests.support.browser import fresh_page
from users.accounts import activate_account, invitation_stamp, invite
from users.models import Role, User
from users.tokens import invitation_token

PASSWORD = "Harbour#Lights42"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# The views axe reads every page in: (viewport, colour scheme) by name.
VIEWS = {
    "1366": (DESKTOP, "light"),
    "390": (PHONE, "light"),
    "1366-dark": (DESKTOP, "dark"),
}
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


@contextmanager
def axed_page(browser: Browser, width: str, **options: object) -> Iterator[Page]:
    """A fresh page at a WIDTHS width, with axe-core loaded on every document
    (tests.support.axe reads it light and dark); `options`: more of the
    browser context's (a time zone, a locale)."""
    with fresh_page(browser, viewport=WIDTHS[width], **options) as page:
        page.context.add_init_script(path=str(AXE))
        yield page


LONG_ERROR = (
    "421 4.7.0 Try again later, closing connection. (EHLO) "
    "a-provider-reply-with-no-spaces-at-all-0123456789abcdefghijklmnopqrstuvwxyz"
)


@dataclass(frozen=True)
class ProductPage:
    name: str
    url: str
    submit: str = ""  # a button to press first: the form comes back with errors
    fill: tuple[tuple[str, str], ...] = ()  # (selector, value) to fill before it
    in_place: bool = False  # the button's form answers through htmx, not a new page


@dataclass(frozen=True)
class World:
    task_id: int
    other_task_id: int
    project_id: int
    delivery_id: int
    unsubscribe_token: str
    mute_token: str
    invitation_token: str


def seed_world(seed: int = 16) -> World:
    """Users of every role, two projects, tasks of every kind and some emails."""
    rng = random.Random(seed)
    ada = UserFactory(
        username="ada",
        first_name="Ada",
        last_name="Admin",
        role=Role.ADMIN,
        is_staff=True,
        is_superuser=True,
        password=PASSWORD,
    )
    UserFactory(
        username="mira",
        first_name="Mira",
        last_name="Manager",
        role=Role.MANAGER,
        password=PASSWORD,
    )
    ann = UserFactory(
        username="ann",
        first_name="Ann",
        last_name="Lee",
        role=Role.EMPLOYEE,
        password=PASSWORD,
    )
    team = [ann] + [
        UserFactory(first_name=first, last_name="Stone", role=Role.EMPLOYEE)
        for first in ("Bob", "Cid", "Dee", "Eve")
    ]
    harbour = ProjectFactory(name="Harbour refit", description="Spring works")
    launch = ProjectFactory(name="A launch with a rather long project name indeed")
    today = timezone.localdate()
    tasks = []
    for number in range(12):
        status = rng.choice(list(Task.Status))
        detail = TaskDetailFactory(
            task__title=f"Task {number}" + " with a long title" * (number % 3),
            task__project=rng.choice([harbour, launch]),
            task__status=status,
            task__due_date=today + datetime.timedelta(days=rng.randint(-5, 20)),
            priority=rng.choice("HML"),
            notes="Bring the ladder" if number % 2 else "",
        )
        if number % 4:  # every fourth task stays unassigned
            people = rng.sample(team, rng.randint(1, 5))
            detail.task.assigned_to.add(ann, *people)
        tasks.append(detail.task)
    add_comment(tasks[1], ann, "Ladder is back in the shed.\nSecond coat tomorrow.")
    add_comment(tasks[1], team[0], "Photos: https://example.com/" + "harbour" * 40)
    other = TaskDetailFactory(task__title="Someone else's", task__project=harbour)
    other.task.assigned_to.add(team[1])
    failed = DeliveryFactory(
        recipient=ann, status=Delivery.Status.FAILED, attempts=12, last_error=LONG_ERROR
    )
    DeliveryFactory(
        recipient=team[2], status=Delivery.Status.SENT, sent_at=timezone.now()
    )
    DeliveryFactory(recipient=ann, status=Delivery.Status.QUEUED)
    Suppression.objects.add(
        "gone.for.good@example.com", "550 5.1.1 The email account does not exist", None
    )
    waiting = UserFactory(username="dana", first_name="Dana", is_active=False)
    activate_account(waiting)  # signed up: waits for an Admin's approval
    invitation = invite("noor@example.com", Role.MANAGER, by=ada)
    return World(
        task_id=tasks[1].pk,
        other_task_id=other.task.pk,
        project_id=harbour.pk,
        delivery_id=failed.pk,
        unsubscribe_token=unsubscribe_token(ann.pk, Delivery.Kind.TASK_ASSIGNED),
        mute_token=mute_token(ann.pk, tasks[1].pk),
        invitation_token=invitation_token(invitation.pk, invitation_stamp(invitation)),
    )


def signed_out_pages(world: World) -> list[ProductPage]:
    unsubscribe = f"/notifications/unsubscribe/{world.unsubscribe_token}/"
    return [
        ProductPage("sign-in", "/users/sign-in/"),
        ProductPage(
            "sign-in-wrong",
            "/users/sign-in/",
            "Sign in",
            (("#id_username", "nobody"), ("#id_password", "wrong")),
        ),
        ProductPage("sign-in-empty", "/users/sign-in/", "Sign in"),
        ProductPage("sign-up", "/users/sign-up/"),
        ProductPage(
            "sign-up-errors",
            "/users/sign-up/",
            "Sign up",
            (("#id_password1", "short"),),
        ),
        ProductPage("reset", "/users/password-reset/"),
        ProductPage("reset-errors", "/users/password-reset/", "Send reset link"),
        ProductPage("reset-done", "/users/password-reset/done/"),
        ProductPage("reset-bad-link", "/users/password-reset/MQ/bad-token/"),
        ProductPage("resend", "/users/activation/resend/"),
        ProductPage("resend-errors", "/users/activation/resend/", "Send link"),
        ProductPage("activation-bad-link", "/users/activate/MQ/bad-token/"),
        ProductPage("unsubscribe", unsubscribe),
        ProductPage("unsubscribed", unsubscribe, "Unsubscribe"),
        ProductPage("unsubscribe-bad-link", "/notifications/unsubscribe/bad-token/"),
        ProductPage("mute", f"/notifications/mute/{world.mute_token}/"),
        ProductPage(
            "muted", f"/notifications/mute/{world.mute_token}/", "Mute this task"
        ),
        ProductPage("mute-bad-link", "/notifications/mute/bad-token/"),
        ProductPage("not-found", "/no-such-page/"),
        ProductPage("invitation", f"/users/invitations/{world.invitation_token}/"),
        ProductPage(
            "invitation-errors",
            f"/users/invitations/{world.invitation_token}/",
            "Join the team",
            (("#id_password1", "short"),),
        ),
        ProductPage("invitation-bad-link", "/users/invitations/bad-token/"),
    ]


def manager_pages(world: World) -> list[ProductPage]:
    task, project = world.task_id, world.project_id
    return [
        ProductPage("dashboard", "/"),
        ProductPage("dashboard-filtered", "/?assignee=none&sort=-priority"),
        ProductPage("all-tasks", "/tasks/"),
        ProductPage("all-tasks-no-match", "/tasks/?q=nothing-matches-this"),
        ProductPage("search-too-long", "/tasks/?q=" + "x" * 300),
        ProductPage("task", f"/tasks/{task}/"),
        ProductPage("task-comment-errors", f"/tasks/{task}/", "Post comment", (), True),
        ProductPage("task-create", "/tasks/create/"),
        ProductPage("task-create-errors", "/tasks/create/", "Create task"),
        ProductPage("task-edit", f"/tasks/{task}/edit/"),
        ProductPage("task-delete", f"/tasks/{task}/delete/"),
        ProductPage("projects", "/tasks/projects/"),
        ProductPage("project", f"/tasks/projects/{project}/"),
        ProductPage("project-create", "/tasks/projects/create/"),
        ProductPage(
            "project-create-errors", "/tasks/projects/create/", "Create project"
        ),
        ProductPage("project-edit", f"/tasks/projects/{project}/edit/"),
        ProductPage("project-delete", f"/tasks/projects/{project}/delete/"),
        ProductPage("team", "/team/"),
        ProductPage("emails", "/notifications/"),
        ProductPage("emails-search", "/notifications/?q=ann&status=failed"),
        ProductPage("inbox", "/notifications/inbox/"),
        ProductPage("inbox-mentions", "/notifications/inbox/?show=mentions"),
        ProductPage("suppressions", "/notifications/suppressions/"),
        ProductPage("email-settings", "/notifications/preferences/"),
        ProductPage(
            "email-settings-saved", "/notifications/preferences/", "Save preferences"
        ),
        ProductPage("not-found", "/tasks/987654/"),
    ]


def employee_pages(world: World) -> list[ProductPage]:
    return [
        ProductPage("my-tasks", "/"),
        ProductPage("my-tasks-filtered", "/?status=COMPLETED&sort=title"),
        ProductPage("task", f"/tasks/{world.task_id}/"),
        ProductPage(
            "task-comment-errors", f"/tasks/{world.task_id}/", "Post comment", (), True
        ),
        ProductPage("emails", "/notifications/"),
        ProductPage("inbox", "/notifications/inbox/"),
        ProductPage("inbox-archived", "/notifications/inbox/?show=archived"),
        ProductPage("email-settings", "/notifications/preferences/"),
        ProductPage("forbidden", f"/tasks/{world.other_task_id}/"),
        ProductPage("projects", "/tasks/projects/"),
        ProductPage("project", f"/tasks/projects/{world.project_id}/"),
        ProductPage("project-board", f"/tasks/projects/{world.project_id}/board/"),
        ProductPage("my-board", "/tasks/board/"),
        ProductPage("profile", "/users/profile/"),
        ProductPage("not-found", "/tasks/987654/"),
    ]


def admin_pages(world: World) -> list[ProductPage]:
    """What only an Admin sees: the Django admin (product pages as a Manager)."""
    return [
        ProductPage("dashboard", "/"),
        ProductPage("emails", "/notifications/"),
        ProductPage("team", "/team/"),
        ProductPage("team-invite-errors", "/team/", "Send invitation"),
        ProductPage("email-previews", "/notifications/preview/"),
        ProductPage("email-preview", "/notifications/preview/task_assigned.html"),
        ProductPage("admin", "/admin/"),
        ProductPage("admin-deliveries", "/admin/notifications/delivery/"),
        ProductPage(
            "admin-delivery",
            f"/admin/notifications/delivery/{world.delivery_id}/change/",
        ),
        ProductPage("admin-tasks", "/admin/tasks/task/"),
        ProductPage("admin-task", f"/admin/tasks/task/{world.task_id}/change/"),
    ]


ROLES = {
    "signed-out": ("", signed_out_pages),
    "manager": ("mira", manager_pages),
    "employee": ("ann", employee_pages),
    "admin": ("ada", admin_pages),
}


def signed_in(page: Page, site: str, username: str, path: str = "/") -> None:
    """The page's browser holds `username`'s session, made as Django's test
    client makes one, and shows `path`: for tests of something other than
    signing in, which test_accounts and test_profile do through the form.

    Three page loads fewer than the form (its page, the POST, the redirect),
    about half a second of Chromium's time per test."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    name = settings.SESSION_COOKIE_NAME
    cookie = {"name": name, "value": client.cookies[name].value, "url": site}
    page.context.add_cookies([cookie])
    page.goto(site + path)
    expect(page).to_have_url(site + path)  # not sent to the sign-in page
    page.wait_for_load_state("load")  # its header's menu listens from then on


def sign_in(page: Page, site: str, username: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person does."""
    page.goto(f"{site}/users/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site}/")
    page.wait_for_load_state("load")  # its header's menu listens from then on


def open_page(page: Page, site: str, product_page: ProductPage) -> None:
    """Go to the page; press its button (after filling) when it has one."""
    page.goto(site + product_page.url)
    for selector, value in product_page.fill:
        page.fill(selector, value)
    if not product_page.submit:
        return
    button = page.locator("main").get_by_role(
        "button", name=product_page.submit, exact=True
    )
    if product_page.in_place:
        posting_in_place(page, button.click)
        return
    with page.expect_navigation():
        button.click()


def header_link(page: Page, name: str) -> Locator:
    """A link of the header's navigation, its menu opened first where the link
    waits behind the Menu button (narrower than 1280 px).

    The page is loaded first: a URL reached (sign-in's redirect) may come
    before its header, or before static/js/menu.js listens for the click."""
    page.wait_for_load_state("load")
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible() and menu.get_attribute("aria-expanded") == "false":
        menu.click()
    nav = page.get_by_role("navigation", name="Main")
    return nav.get_by_role("link", name=name, exact=True)


def posting_in_place(page: Page, act: Callable[[], object]) -> None:
    """Do what posts a form through htmx; return once its answer is swapped in
    and settled. (A locator, not a script: the page's CSP forbids eval.)"""
    with page.expect_response(lambda response: response.request.method == "POST"):
        act()
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling")
    expect(busy).to_have_count(0)


def sideways_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
