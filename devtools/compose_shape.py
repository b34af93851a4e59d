"""What .ci/run asserts of `docker-compose config`: the production shape.

`docker-compose config | python -m devtools.compose_shape` exits non-zero, naming
each problem, unless the reverse proxy is there and publishes 80 and 443, no
other service publishes a port on every interface (web above all), the app runs
BEHIND_PROXY, and Redis asks for a password that the app's broker URL carries.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

PROXY, WEB = "proxy", "web"
LOOPBACK = ("127.0.0.1", "[::1]", "::1")


def published(service: dict[str, Any]) -> list[str]:
    """Its published ports, as "host_ip:published" ("" host_ip: every interface)."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):  # the long form `config` writes
            found.append(f"{port.get('host_ip', '')}:{port.get('published', '')}")
        else:
            parts = str(port).rsplit(":", 2)
            host_ip = parts[0] if len(parts) == 3 else ""
            found.append(f"{host_ip}:{parts[-2] if len(parts) > 1 else parts[0]}")
    return found


def problems(config: dict[str, Any]) -> list[str]:
    services: dict[str, Any] = config.get("services", {})
    found = []
    proxy = services.get(PROXY)
    if proxy is None:
        return ["no `proxy` service: web would face the internet itself"]
    if sorted(p.split(":")[-1] for p in published(proxy)) != ["443", "80"]:
        found.append(f"the proxy publishes {published(proxy)}, not 80 and 443")
    for name, service in services.items():
        if name == PROXY:
            continue
        for port in published(service):
            if not port.startswith(LOOPBACK):
                found.append(f"{name} publishes {port} beyond loopback")
    web_env = services.get(WEB, {}).get("environment", {})
    if str(web_env.get("BEHIND_PROXY")).lower() != "true":
        found.append("web does not run with BEHIND_PROXY on")
    if "@" not in str(web_env.get("CELERY_BROKER_URL", "")):
        found.append("the broker URL carries no Redis password")
    if "requirepass" not in str(services.get("redis", {}).get("command", "")):
        found.append("Redis asks for no password")
    return found


def main() -> int:
    found = problems(yaml.safe_load(sys.stdin))
    for problem in found:
        print(f"docker-compose.yml: {problem}", file=sys.stderr)
    if not found:
        print(
            "docker-compose.yml: the proxy publishes 80 and 443; web is not published"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
