"""Benchmarks (`make bench`) and fault runs (`make chaos`) against the real processes.

Everything runs on loopback: a PostgreSQL database created and dropped by the run, a
private Redis, gunicorn, Celery workers and beat, and an aiosmtpd server in this
process whose delay and failures each phase sets.
"""
