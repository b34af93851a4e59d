"""The printed tables: Markdown with notes under them, and their cells."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

OK = "ok"
MISSED = "MISSED"


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

    def missed(self) -> list[str]:
        """`title: first cell` of each row whose verdict is MISSED."""
        return [f"{self.title}: {row[0]}" for row in self.rows if MISSED in row]

    def render(self) -> str:
        widths = [
            max(len(row[i]) for row in [self.header, *self.rows])
            for i in range(len(self.header))
        ]

        def line(cells: tuple[str, ...]) -> str:
            padded = (
                cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
            )
            return "| " + " | ".join(padded) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        body = [line(self.header), rule, *(line(row) for row in self.rows)]
        notes = [f"  {text}" for text in self.notes]
        return "\n".join([f"\n### {self.title}\n", *body, *notes])
