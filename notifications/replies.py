"""A reply to a task email becomes a comment by its person on its task.

The reply address (notifications/addresses.py) names the person and the task;
the rest is checked here, in this order, and a reply that fails a check is
refused, logged and kept with its reason (InboundMessage):

- auto-replies and bulk mail (notifications/reports.is_auto_reply), and our own
  mail coming back, are ignored: the product never answers them (no loops);
- the From address must be the account's own address;
- the person must be active and still allowed to see the task
  (tasks/permissions.py), the task must still exist;
- at most INBOUND_REPLIES_PER_HOUR comments by email per person and hour;
- what the person wrote, without quoted text and signatures
  (mail-parser-reply), HTML-only replies turned to text, must be neither empty
  nor longer than a comment may be.

A refused reply's person is told, at most once an hour (reply_refused). The
comment goes through tasks' own add_comment, so the task's history records it
and the other people on the task are emailed as for any comment.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser

from django.conf import settings
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from notifications.addresses import ReplyTo, is_ours
from notifications.models import InboundMessage
from notifications.recording import record_reply_refused
from notifications.reports import is_auto_reply
from tasks.activity import add_comment
from tasks.forms import COMMENT_MAX_LENGTH
from tasks.models import Comment, Task
from tasks.permissions import can_view_task
from users.models import User

logger = logging.getLogger(__name__)
Outcome = InboundMessage.Outcome


@dataclass(frozen=True)
class Reply:
    """What became of a reply, as InboundMessage keeps it."""

    outcome: str
    reason: str
    user: User | None = None
    comment: Comment | None = None


class Refused(Exception):
    """The reply may not become a comment; the reason is said to its person."""

    def __init__(self, why: str, *, tell: bool = True) -> None:
        super().__init__(why)
        self.why = why
        self.tell = tell


def take_reply(message: EmailMessage, to: ReplyTo) -> Reply:
    user = User._default_manager.filter(pk=to.user_id).first()
    if user is None:
        return Reply(Outcome.IGNORED, "the account named by the address is gone")
    ignored = reason_to_ignore(message)
    if ignored:
        return Reply(Outcome.IGNORED, ignored, user)
    task = Task.objects.prefetch_related("assigned_to").filter(pk=to.task_id).first()
    try:
        comment = post(message, user, task)
    except Refused as refusal:
        return refuse(user, to, task, refusal)
    return Reply(Outcome.COMMENTED, f"comment {comment.pk}", user, comment)


def reason_to_ignore(message: EmailMessage) -> str:
    """Mail no person wrote as a reply: never posted, never answered."""
    if is_auto_reply(message):
        return "an auto-reply or bulk mail"
    if is_ours(str(message.get("From", ""))) or any(
        name.lower().startswith("x-tasks-") for name in message
    ):
        return "our own mail coming back"
    if message.get_content_type() == "multipart/report":
        return "a delivery or feedback report, not a reply"
    return ""


def post(message: EmailMessage, user: User, task: Task | None) -> Comment:
    """The comment, once every check passed; Refused otherwise."""
    if sender(message) != user.email.lower():
        raise Refused("it came from an address that is not the one of your account")
    if not user.is_active:
        raise Refused("your account is not active", tell=False)
    if task is None:
        raise Refused("the task was deleted")
    if not can_view_task(user, task, is_manager=user.is_manager):
        raise Refused("you can no longer see this task")
    if replies_this_hour(user) >= settings.INBOUND_REPLIES_PER_HOUR:
        limit = settings.INBOUND_REPLIES_PER_HOUR
        raise Refused(f"you emailed more than {limit} replies within an hour")
    text = reply_text(message)
    if not text:
        raise Refused("it had no words of its own, only quoted text or a signature")
    if len(text) > COMMENT_MAX_LENGTH:
        raise Refused(f"it is longer than a comment may be ({COMMENT_MAX_LENGTH:,})")
    return add_comment(task, user, text)


def refuse(user: User, to: ReplyTo, task: Task | None, refusal: Refused) -> Reply:
    logger.warning(
        "Reply by user %s to task %s refused: %s", user.pk, to.task_id, refusal.why
    )
    if refusal.tell:
        title = task.title if task is not None else "a deleted task"
        record_reply_refused(user, to.task_id, title, refusal.why)
    return Reply(Outcome.REFUSED, refusal.why, user)


def sender(message: Message) -> str:
    found = getaddresses([str(message.get("From", ""))])
    return found[0][1].lower() if found else ""


def replies_this_hour(user: User) -> int:
    since = timezone.now() - timedelta(hours=1)
    return InboundMessage.objects.filter(
        user=user,
        kind=InboundMessage.Kind.REPLY,
        outcome=Outcome.COMMENTED,
        received_at__gte=since,
    ).count()


# What the person wrote ------------------------------------------------------------

QUOTED_LINE = re.compile(r"^\s*>")


def reply_text(message: EmailMessage) -> str:
    """The reply's own words: its text part (or its HTML, turned to text) with
    quoted text and signatures removed."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = decoded(body)
    if body.get_content_subtype() == "html":
        content = html_to_text(content)
    replies = EmailReplyParser(languages=["en"]).read(content).replies
    own = replies[0].body if replies else ""
    # Apple Mail quotes the "On ... wrote:" line itself; nothing quoted stays.
    lines = [line for line in own.splitlines() if not QUOTED_LINE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).replace("\x00", "").strip()


def decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", "replace")


# Where mail programs start the quoted message (or the signature) in their HTML:
# Gmail's gmail_quote and gmail_signature, Outlook's divRplyFwdMsg and
# appendonsend, Thunderbird's moz-cite-prefix, and the cited blockquote of Apple
# Mail and Thunderbird.
QUOTE_CLASSES = {"gmail_quote", "gmail_attr", "gmail_signature", "moz-cite-prefix"}
QUOTE_IDS = {"divrplyfwdmsg", "appendonsend"}
BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol"}
SKIPPED = {"script", "style", "head", "title"}


class ReplyHTML(HTMLParser):
    """The text of an HTML reply up to where the quoted message starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quoted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: (value or "") for name, value in attrs}
        classes = set(found.get("class", "").lower().split())
        if (
            classes & QUOTE_CLASSES
            or found.get("id", "").lower() in QUOTE_IDS
            or (tag == "blockquote" and found.get("type", "").lower() == "cite")
        ):
            self.quoted = True
        if tag in SKIPPED:
            self.skipping += 1
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED and self.skipping:
            self.skipping -= 1
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.quoted:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = ReplyHTML()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
