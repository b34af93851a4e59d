"""The broker's two lanes, named once: the settings route jobs to them, the jobs
are published to them, and a worker consumes them in this order.

Plain constants, so that project/settings.py can read them.
"""

from __future__ import annotations

# Account emails (activation, password reset, email change), the sweep and the
# digests: someone may be waiting at the screen.
URGENT = "priority"
# Notifications.
BULK = "bulk"
IN_ORDER = (URGENT, BULK)
