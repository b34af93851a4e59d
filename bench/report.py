"""Percentiles and the printed tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

OK = "ok"
MISSED = "MISSED"


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def verdict(met: bool) -> str:
    return OK if met else MISSED


@dataclass
class Table:
    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append(tuple(str(cell) for cell in cells))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        widths = [
            max(len(row[i]) for row in [self.header, *self.rows])
            for i in range(len(self.header))
        ]

        def line(cells: tuple[str, ...]) -> str:
            return (
                "| "
                + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
                + " |"
            )

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        body = [line(self.header), rule, *(line(row) for row in self.rows)]
        notes = [f"  {text}" for text in self.notes]
        return "\n".join([f"\n### {self.title}\n", *body, *notes])

    def show(self) -> str:
        text = self.render()
        print(text, flush=True)
        return text
