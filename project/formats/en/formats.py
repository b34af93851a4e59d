"""The one way dates and times are written, on every page and in every email
(`{{ value|date }}`, django.utils.formats.date_format)."""

DATE_FORMAT = "D j M Y"  # Mon 7 Dec 2026
DATETIME_FORMAT = "D j M Y, H:i T"  # Mon 7 Dec 2026, 14:05 CET
SHORT_DATE_FORMAT = "j M Y"  # 7 Dec 2026
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
