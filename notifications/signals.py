"""Receivers: guard, record deliveries in the caller's transaction, dispatch on commit."""

from __future__ import annotations


def connect_receivers() -> None:
    """Connect every receiver with an explicit sender and dispatch_uid."""
