"""Where a worker's time goes: notifications.sending.send_batch under cProfile.

Runs the product's own send_batch(), in a process of its own like a worker, on a
batch of deliveries that no worker is consuming (the caller stops the workers
first), against the same SMTP server, and splits its time into templates, MIME
building, SMTP round trips (which include the server's time to answer), SQL and
the rest.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable, Sequence

from bench.report import Table

# (file suffix, function name) pairs whose cumulative time makes each category.
TEMPLATES = [("django/template/loader.py", "render_to_string")]
MIME = [("django/core/mail/message.py", "message"), ("email/message.py", "as_bytes")]
TRANSMIT = [("notifications/smtp.py", "transact")]
SQL = [("~", "<method 'execute' of 'psycopg2.extensions.cursor' objects>")]
DELIVER = [("notifications/sending.py", "send_batch")]


def cumulative(stats: pstats.Stats, wanted: list[tuple[str, str]]) -> float:
    total = 0.0
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in entries:
        if any(path.endswith(suffix) and name == fn for suffix, fn in wanted):
            total += ct
    return total


def profile_deliveries(
    deliver: Callable[[Sequence[int]], object], ids: list[int], batch: int
) -> tuple[pstats.Stats, float]:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for index in range(0, len(ids), batch):
        deliver(ids[index : index + batch])
    profiler.disable()
    return pstats.Stats(profiler), time.perf_counter() - start


def profile_table(ids: list[int], batch: int) -> Table:
    from notifications.sending import send_batch

    stats, wall = profile_deliveries(send_batch, ids, batch)
    total = cumulative(stats, DELIVER) or wall
    templates = cumulative(stats, TEMPLATES)
    mime = cumulative(stats, MIME)
    smtp = max(cumulative(stats, TRANSMIT) - mime, 0.0)
    sql = cumulative(stats, SQL)
    other = max(total - templates - mime - smtp - sql, 0.0)
    table = Table(
        f"Profile: send_batch() on {len(ids)} deliveries in batches of {batch}, "
        "one process",
        ("part", "ms per email", "share"),
    )
    for label, seconds in (
        ("templates (3 per email)", templates),
        ("MIME building", mime),
        ("SMTP round trips", smtp),
        ("SQL (claim, select, record)", sql),
        ("everything else (Python, ORM)", other),
        ("total under cProfile", total),
    ):
        table.add(label, f"{seconds / len(ids) * 1000:.2f}", f"{seconds / total:.0%}")
    table.note(
        f"Wall time with the profiler on: {wall / len(ids) * 1000:.2f} ms per email. "
        "Categories can overlap (a query made while rendering counts in both)."
    )
    return table


def main() -> None:
    """`python -m bench.profile FIRST LAST`: profile deliveries FIRST..LAST.

    Run by bench.run with the stack's environment, in a process of its own so the
    profile, like a worker, does not share the SMTP server's interpreter.
    """
    import sys

    import django

    django.setup()
    first, last = int(sys.argv[1]), int(sys.argv[2])
    print(profile_table(list(range(first, last + 1)), batch=50).render())


if __name__ == "__main__":
    main()
