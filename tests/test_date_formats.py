"""One way of writing dates and times, on every page and in every email
(project/formats/en/formats.py): templates name those formats rather than
spelling out their own."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCT_TEMPLATES = [
    path
    for folder in ("templates", "tasks", "users", "notifications", "ui")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".html", ".txt"} and "templates" in path.parts
]
DATE_FILTER = re.compile(r"\|date:[\"']([^\"']*)[\"']")
# Named formats, plus what machines read (the datetime attribute, comparisons)
# and a bare time beside a date already shown.
ALLOWED = {"DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATE_FORMAT", "c", "Y-m-d", "H:i T"}


def test_templates_use_the_named_date_formats_only() -> None:
    spelled_out = {
        f"{path.relative_to(ROOT)}: {fmt}"
        for path in PRODUCT_TEMPLATES
        for fmt in DATE_FILTER.findall(path.read_text())
        if fmt not in ALLOWED
    }

    assert PRODUCT_TEMPLATES
    assert spelled_out == set()
