"""docker-compose.yml: the production shape behind the reverse proxy, and every
documented setting passed through to the app (.ci/run also checks what
`docker-compose config` makes of it, with devtools.compose_shape)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from devtools.compose_shape import problems
from devtools.processes import ROOT

# .env.example's names that no container reads: `make run` and development only,
# or what compose itself fills in (the broker URL from REDIS_PASSWORD).
NOT_FOR_CONTAINERS = {
    "DEBUG", "DEBUG_TOOLBAR", "DEMO_PASSWORD", "FLOWER_BASIC_AUTH", "DB_HOST",
    "DB_PORT", "CELERY_BROKER_URL", "REDIS_PASSWORD", "TLS_CERT_DIR",
}  # fmt: skip


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_proxy_alone_publishes_web_and_the_app_runs_behind_it() -> None:
    assert problems(compose()) == []


def test_a_published_web_port_is_caught() -> None:
    shape = compose()
    shape["services"]["web"]["ports"] = ["8000:8000"]
    assert problems(shape) == ["web publishes :8000 beyond loopback"]


def test_every_documented_setting_reaches_the_app() -> None:
    documented = set(
        re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    environment = compose()["services"]["web"]["environment"]
    missing = documented - NOT_FOR_CONTAINERS - set(environment)
    assert not missing, f"add to docker-compose.yml's x-app environment: {missing}"
    assert environment["BEHIND_PROXY"] == "True"


def test_flower_gets_its_credentials_and_redis_its_password() -> None:
    services = compose()["services"]
    assert "FLOWER_BASIC_AUTH" in services["flower"]["environment"]
    assert "REDIS_PASSWORD" in services["redis"]["environment"]
