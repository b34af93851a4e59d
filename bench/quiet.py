"""The "notifications off" baseline: the product with every notifications
receiver disconnected (bench/switch.py), as a WSGI entry point for gunicorn
(`bench.quiet:application`).

Bench-only: the product never imports this module and has no such switch.
"""

from __future__ import annotations

from bench.switch import disconnect_notifications
from project.wsgi import application

__all__ = ["application"]

disconnect_notifications()
