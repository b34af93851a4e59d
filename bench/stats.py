"""Arithmetic on measurements: percentiles, rates, the busiest second."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(count: int, seconds: float) -> float:
    """Per second; 0 when no time passed."""
    return count / seconds if seconds > 0 else 0.0


def per_email_ms(seconds: float, emails: int) -> float:
    return seconds / emails * 1000 if emails else 0.0


def achieved_rate(times: Sequence[float]) -> float:
    """Emails a second from the first acceptance to the last (times sorted)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return math.nan
    return (len(times) - 1) / (times[-1] - times[0])


def busiest_second(times: Sequence[float]) -> int:
    """The most acceptances in any one-second window (times sorted)."""
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest
