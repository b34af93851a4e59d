"""@mentions in a comment: who it names, and which of them may hear of it.

A mention is `@` and a username (letters, digits and . + - _; usernames have no
@, users/forms.py) not glued to a word before it, so an email address is not
one. A full stop or hyphen that ends a sentence is not taken as part of the
name. Only people who may see the task (tasks.permissions) are mentioned:
anyone else stays plain text, and the author is told, in words that do not
say whether such an account exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.models import Task
from tasks.permissions import people_who_can_see
from users.accounts import assignable_people
from users.models import User

MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]+)")
MAX_MENTIONS = 20  # people one comment may call; more is a broadcast


@dataclass(frozen=True)
class Mentions:
    # Who the comment mentions and may see the task, in the order written.
    people: list[User] = field(default_factory=list)
    # The names written that are nobody who may see it, as written.
    refused: list[str] = field(default_factory=list)


def written_names(body: str) -> list[str]:
    """The @names in a text, each once, in the order written."""
    return list(dict.fromkeys(match.group(1) for match in MENTION.finditer(body)))


def mentions_in(task: Task, body: str, author: User) -> Mentions:
    """The people a comment on this task mentions, and the names refused."""
    names = written_names(body)
    if not names:
        return Mentions()
    spellings = {name: (name, name.rstrip(".-")) for name in names}
    accounts = assignable_people().filter(
        username__in={each for pair in spellings.values() for each in pair}
    )
    by_name = {user.username: user for user in accounts}
    allowed = people_who_can_see([task.pk], [user.pk for user in accounts])
    people: dict[int, User] = {}
    refused = []
    for name, (exact, trimmed) in spellings.items():
        user = by_name.get(exact) or by_name.get(trimmed)
        if user is None or (task.pk, user.pk) not in allowed:
            refused.append(name)
        elif user.pk != author.pk:
            people.setdefault(user.pk, user)
    return Mentions(list(people.values()), refused)
