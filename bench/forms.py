"""What the bench posts, as a browser would: a task for some people, a sign-up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bench.client import Response, Session
from bench.data import MANAGER_PASSWORD, MANAGER_USERNAME, throwaway_password

if TYPE_CHECKING:
    from users.models import User

Fields = list[tuple[str, str]]
# Made fresh each run, as the manager's is: no password is in the repository.
SIGN_UP_PASSWORD = throwaway_password()


def task_fields(title: str, project_id: int, people: Sequence[User]) -> Fields:
    """The task form, filled in: a task due in a week for these people."""
    due_text = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    fields = [
        ("title", title),
        ("description", "Benchmark task"),
        ("due_date", due_text),
        ("project", str(project_id)),
        ("status", "PENDING"),
        ("priority", "M"),
        ("notes", ""),
    ]
    return fields + [("assigned_to", str(person.pk)) for person in people]


def sign_up_fields(username: str) -> Fields:
    return [
        ("username", username),
        ("first_name", "Sign"),
        ("last_name", "Up"),
        ("email", f"{username}@example.com"),
        ("password1", SIGN_UP_PASSWORD),
        ("password2", SIGN_UP_PASSWORD),
    ]


def grouped(fields: Fields) -> dict[str, list[str]]:
    """The fields as Django's test client takes them: name -> values."""
    by_name: dict[str, list[str]] = {}
    for name, value in fields:
        by_name.setdefault(name, []).append(value)
    return by_name


def manager_session(url: str) -> Session:
    """A session of the bench's manager, signed in."""
    session = Session(url)
    session.sign_in(MANAGER_USERNAME, MANAGER_PASSWORD)
    return session


def post_task(
    session: Session, title: str, project_id: int, people: Sequence[User]
) -> Response:
    """Open the task form, then create the task, as a manager in a browser would."""
    session.get("/tasks/create/")
    answer = session.post("/tasks/create/", task_fields(title, project_id, people))
    expect_redirect(answer, "/tasks/create/")
    return answer


def post_sign_up(url: str, username: str) -> Response:
    """Open the sign-up form, then sign up, as a new visitor would."""
    session = Session(url)
    session.get("/users/sign-up/")
    answer = session.post("/users/sign-up/", sign_up_fields(username))
    expect_redirect(answer, "/users/sign-up/")
    return answer


def expect_redirect(answer: Response, path: str) -> None:
    if answer.status != 302:
        raise RuntimeError(f"POST {path} answered {answer.status}: {answer.body[:500]}")
