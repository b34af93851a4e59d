"""The network of `make image`'s proxy and web roles, as compose's is to them.

In docker-compose.yml only the proxy publishes ports; web is reachable through it
alone. Here the two run in a network namespace of their own, joined to the host
by a veth pair: the host's end is the clients' side (the checks connect from
it), the namespace's end is where the proxy listens on 80 and 443, as in
compose; web listens on the namespace's loopback, where only the proxy reaches
it. What web needs on the host (PostgreSQL, Redis, SMTP, each on the host's
loopback) it reaches through relays on the host's end of the pair, as compose's
roles reach `postgres` and `redis` by name.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devtools.buildah import ImageError, run, say

# Where the pair's /30 is taken from: private, and rarely routed on a host.
POOL = ipaddress.ip_network("10.213.0.0/16")


@dataclass(frozen=True)
class WebNetwork:
    """A network namespace and the two ends of the veth pair joining it."""

    netns: str
    host_address: str  # the host's end: the clients' side, and the relays'
    inner_address: str  # the namespace's end: where the proxy listens


@contextmanager
def web_network() -> Iterator[WebNetwork]:
    name = f"taskmanager-image-{os.getpid()}"
    subnet = free_subnet()
    host_end, inner_end = (str(address) for address in subnet.hosts())
    host_link, inner_link = f"tmi{os.getpid()}h", f"tmi{os.getpid()}n"
    run(["ip", "netns", "add", name])
    try:
        run(["ip", "link", "add", host_link, "type", "veth", "peer", inner_link])
        run(["ip", "link", "set", inner_link, "netns", name])
        run(["ip", "addr", "add", f"{host_end}/30", "dev", host_link])
        run(["ip", "link", "set", host_link, "up"])
        inside = ["ip", "-n", name]
        run([*inside, "addr", "add", f"{inner_end}/30", "dev", inner_link])
        run([*inside, "link", "set", inner_link, "up"])
        run([*inside, "link", "set", "lo", "up"])
        say(f"network namespace {name}: host {host_end}, proxy {inner_end}")
        yield WebNetwork(name, host_end, inner_end)
    finally:
        # Deleting the namespace deletes its end of the pair, and so the pair.
        run(["ip", "netns", "delete", name])
        say(f"network namespace {name} deleted")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def free_subnet() -> Network:
    """A /30 of POOL that overlaps nothing routed or addressed on the host."""
    taken = [*routed_networks(), *addressed_networks()]
    subnets: list[Network] = list(POOL.subnets(new_prefix=30))
    start = os.getpid() % len(subnets)
    for subnet in subnets[start:] + subnets[:start]:
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise ImageError(f"no free /30 in {POOL} for the proxy's network")


def routed_networks() -> list[Network]:
    routes = json.loads(
        run(["ip", "-j", "-4", "route", "show", "table", "all"], capture=True)
    )
    return [
        ipaddress.ip_network(route["dst"], strict=False)
        for route in routes
        if route.get("dst", "default") != "default" and ":" not in route["dst"]
    ]


def addressed_networks() -> list[Network]:
    links = json.loads(run(["ip", "-j", "-4", "addr"], capture=True))
    return [
        ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False)
        for link in links
        for info in link.get("addr_info", ())
    ]


class Relay:
    """Forwards every TCP connection made to (address, a free port) to `target`.

    One thread accepts, one per connection copies bytes both ways until both
    sides are done. Closing the relay closes its listener and every connection.
    """

    def __init__(self, address: str, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server((address, 0))
        self.address, self.port = address, self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> Relay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the relay is closed
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open |= {client, server}
            threading.Thread(
                target=self._serve, args=(client, server), daemon=True
            ).start()

    def _serve(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for side in peer:
                selector.register(side, selectors.EVENT_READ)
            while selector.get_map():
                for key, _ in selector.select():
                    self._pass_on(key.fileobj, peer, selector)  # type: ignore[arg-type]
        with self._lock:
            self._open -= {client, server}
        client.close()
        server.close()

    @staticmethod
    def _pass_on(
        source: socket.socket,
        peer: dict[socket.socket, socket.socket],
        selector: selectors.BaseSelector,
    ) -> None:
        """What `source` sent, to its peer; once it is done, the peer is told."""
        try:
            data = source.recv(65536)
            if data:
                peer[source].sendall(data)
                return
        except OSError:
            pass
        selector.unregister(source)
        with contextlib.suppress(OSError):
            peer[source].shutdown(socket.SHUT_WR)
