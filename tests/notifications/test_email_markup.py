"""The HTML part of every email has a title, a main landmark and a heading."""

from __future__ import annotations

import re

import pytest

from notifications.models import Delivery
from notifications.previews import html_of, preview


@pytest.mark.parametrize("kind", Delivery.Kind.values)
def test_every_html_email_has_a_title_a_landmark_and_a_heading(kind: str) -> None:
    message = preview(kind)  # built by the real code on sample data
    html = html_of(message)

    title = re.search(r"<title>(.+?)</title>", html, re.DOTALL)
    assert title and title.group(1).strip() == message.subject
    assert 'role="main"' in html
    assert re.search(r"<h1[^>]*>\s*\S", html)
    assert '<html lang="en">' in html
