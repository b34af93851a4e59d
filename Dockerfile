# One image for every Python role: web (gunicorn), worker, beat and flower.
# BASE_IMAGE is only overridden by `make image` (devtools/image.py), which builds
# on a stand-in made from Debian's packages where no registry can be reached.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A fixed numeric id: orchestrators that enforce runAsNonRoot can only verify a number.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

# libpq for psycopg 3 (pure Python), from Debian with its security updates, rather
# than the copy psycopg2-binary bundles. Every package from the lock, each refused
# unless its hash is the one recorded.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements-image.txt .
RUN pip install --require-hashes -r requirements-image.txt

# The code stays root's and read-only to the app user; only var/ (beat's schedule)
# is writable, so a compromised process cannot rewrite what it runs.
COPY . .

# collectstatic needs settings, not secrets: a throwaway key for this step only.
RUN SECRET_KEY=collectstatic-only-not-used-at-runtime-0123456789abcdefghij \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown app:app /app/var

USER 10001:10001

EXPOSE 8000
# The probe names a host from ALLOWED_HOSTS: Django answers 400 to a Host it does
# not serve, so a bare request to 127.0.0.1 fails once ALLOWED_HOSTS is the real
# domain. /healthz is exempt from the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as r; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4)"

# No control socket: nothing uses it, and $HOME (/app) is not writable by the app user.
CMD ["gunicorn", "project.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--no-control-socket", "--access-logfile", "-"]
