"""A tiny authoritative DNS server on loopback (UDP), answering TXT questions from
a dict, built on dnspython's message API: the stand-in for a domain's DNS that
`check_email`'s SPF, DKIM and DMARC checks and the DKIM verification are tested
against.

    with DNSServer({"example.com": ["v=spf1 -all"]}) as dns:
        ... dns.port ...
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

from devtools.smtp import free_port


class DNSServer:
    def __init__(self, txt: dict[str, list[str]] | None = None) -> None:
        # Names without the final dot, lower-cased -> their TXT records.
        self.txt = {
            name.lower().rstrip("."): records for name, records in (txt or {}).items()
        }
        self.port = free_port()
        self.questions: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        """What `check_email --nameserver` takes."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> DNSServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._socket.close()

    def __enter__(self) -> DNSServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def resolver(self) -> dns.resolver.Resolver:
        """A resolver asking this server only."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], self.port
        return resolver

    def _serve(self) -> None:
        while True:
            try:
                wire, client = self._socket.recvfrom(4096)
            except OSError:
                return  # stopped
            self._socket.sendto(self.answer(wire).to_wire(), client)

    def answer(self, wire: bytes) -> dns.message.Message:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        self.questions.append(name)
        records = self.txt.get(name)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            response.answer.append(
                dns.rrset.from_text_list(
                    question.name, 300, dns.rdataclass.IN, dns.rdatatype.TXT,
                    [quoted(record) for record in records],
                )
            )  # fmt: skip
        return response


def quoted(record: str) -> str:
    """A TXT record in zone-file form: strings of at most 255 characters each."""
    parts = [record[i : i + 255] for i in range(0, len(record), 255)] or [""]
    return " ".join(f'"{part}"' for part in parts)
