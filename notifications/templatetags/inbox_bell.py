"""The bell in the header: the signed-in person's unread count, kept up to date
by htmx polling (notifications/_bell.html, views.inbox_bell).

A template tag, so base.html shows it while knowing nothing of notifications/.
"""

from __future__ import annotations

from typing import Any

from django import template

from notifications import inbox

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def inbox_bell(context: dict[str, Any]) -> dict[str, Any]:
    """The inbox page counted already: its count is reused."""
    request = context["request"]
    unread = context.get("inbox_unread")
    if unread is None:
        unread = inbox.unread_count(request.user.pk)
    match = request.resolver_match
    here = match is not None and match.view_name == "notifications:inbox"
    return inbox.bell(unread, here=here)
