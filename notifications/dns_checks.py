"""Whether the sending domain's DNS says what receivers check before they trust
our mail: SPF (who may send for the domain), DKIM (the public key our signatures
verify against) and DMARC (the policy tying both to the From address). Read
with dnspython; `check_email` prints what is missing in words an operator can
act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

import dns.exception
import dns.resolver
from django.conf import settings

from notifications.dkim import Signer

OK, MISSING, NOTE, UNKNOWN = "ok", "missing", "note", "could not check"
# Seconds for the whole of one lookup, retries included.
DNS_TIMEOUT = 3.0


@dataclass(frozen=True)
class Finding:
    record: str  # SPF, DKIM or DMARC
    status: str  # OK, MISSING (to fix), NOTE (nothing to fix here), UNKNOWN
    says: str  # for the operator: what was found, or what to publish where

    @property
    def problem(self) -> bool:
        return self.status in (MISSING, UNKNOWN)


class Lookup:
    """TXT records by name, through one resolver (the system's, or a given
    nameserver: the domain's own, say, before a change has propagated)."""

    def __init__(self, nameserver: str = "", timeout: float = DNS_TIMEOUT) -> None:
        self.resolver = dns.resolver.Resolver(configure=not nameserver)
        if nameserver:
            host, _, port = nameserver.partition(":")
            self.resolver.nameservers = [host]
            self.resolver.port = int(port or 53)
        self.resolver.lifetime = timeout

    def txt(self, name: str) -> list[str]:
        """The TXT records at `name` (each one's strings joined); [] when there
        are none. Raises dns.exception.DNSException when DNS does not answer."""
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        return [b"".join(rdata.strings).decode(errors="replace") for rdata in answer]


def from_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].lower()


def check_records(domain: str, signer: Signer | None, lookup: Lookup) -> list[Finding]:
    checks: tuple[tuple[str, Callable[[], Finding]], ...] = (
        ("SPF", lambda: spf(domain, lookup)),
        ("DKIM", lambda: dkim(domain, signer, lookup)),
        ("DMARC", lambda: dmarc(domain, lookup)),
    )
    findings: list[Finding] = []
    for record, check in checks:
        silent = next((f.says for f in findings if f.status == UNKNOWN), "")
        if silent:  # one unanswered question is enough to wait for
            findings.append(Finding(record, UNKNOWN, silent))
            continue
        try:
            findings.append(check())
        except dns.exception.DNSException as error:
            findings.append(Finding(record, UNKNOWN, f"DNS did not answer ({error})"))
    return findings


def spf(domain: str, lookup: Lookup) -> Finding:
    records = [r for r in lookup.txt(domain) if r.lower().startswith("v=spf1")]
    if not records:
        return Finding(
            "SPF",
            MISSING,
            f"No SPF record at {domain}. Publish one TXT record there naming who "
            "sends for the domain, e.g. \"v=spf1 include:<your relay's SPF domain> "
            "~all\" (the relay's documentation gives the include).",
        )
    if len(records) > 1:
        return Finding(
            "SPF",
            MISSING,
            f"{len(records)} SPF records at {domain}; receivers then treat SPF as "
            "broken. Merge them into one.",
        )
    if records[0].split()[-1] in ("+all", "all"):
        return Finding(
            "SPF", MISSING, f"{records[0]!r} lets anyone send as {domain}: end it ~all."
        )
    return Finding("SPF", OK, records[0])


def dkim(domain: str, signer: Signer | None, lookup: Lookup) -> Finding:
    if signer is None:
        return Finding(
            "DKIM",
            NOTE,
            "DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY are not set: nothing is "
            "signed here. Fine when the relay or ESP signs for you (set it up in its "
            "dashboard); otherwise receivers see unsigned mail and Gmail shows no "
            "one-click unsubscribe.",
        )
    if domain != signer.domain and not domain.endswith(f".{signer.domain}"):
        return Finding(
            "DKIM",
            MISSING,
            f"DKIM_DOMAIN {signer.domain} is not the From address's domain {domain} "
            "nor a parent of it, so DMARC does not count the signature. Sign as "
            f"{domain}.",
        )
    published = [r for r in lookup.txt(signer.record_name) if "p=" in r]
    if not published:
        return Finding(
            "DKIM",
            MISSING,
            f"No DKIM key at {signer.record_name}. Publish this TXT record there: "
            f"{signer.record}",
        )
    if not any(signer.publishes_our_key(record) for record in published):
        return Finding(
            "DKIM",
            MISSING,
            f"The key at {signer.record_name} is not the public half of "
            f"DKIM_PRIVATE_KEY, so every signature fails. Publish: {signer.record}",
        )
    return Finding(
        "DKIM", OK, f"{signer.record_name} holds DKIM_PRIVATE_KEY's public key"
    )


def dmarc(domain: str, lookup: Lookup) -> Finding:
    # A subdomain without a record of its own falls under its parent's policy
    # (two labels up: enough for example.com, not for example.co.uk).
    names = dict.fromkeys([domain, ".".join(domain.split(".")[-2:])])
    for name in names:
        records = [r for r in lookup.txt(f"_dmarc.{name}") if r.startswith("v=DMARC1")]
        if records:
            return Finding("DMARC", OK, f"_dmarc.{name}: {records[0]}")
    return Finding(
        "DMARC",
        MISSING,
        f"No DMARC record at _dmarc.{domain}. Gmail and Yahoo require one of bulk "
        f'senders. Publish a TXT record such as "v=DMARC1; p=none; '
        f'rua=mailto:dmarc-reports@{domain}", read the reports, then tighten p= to '
        "quarantine or reject.",
    )
