"""The client's address: one function for rate limits, the audit trail and consent evidence.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy. The proxy appends the address
it saw to ``X-Forwarded-For``; only the entries that our own proxies added can be
trusted, since a client can send any ``X-Forwarded-For`` it likes. So the header is
read from the right, skipping addresses of trusted proxies (``TRUSTED_PROXIES``,
networks in CIDR notation), and the first address that is not one of ours is the
client. With no trusted proxies configured the header is ignored entirely.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    address = address.strip()
    # "[2001:db8::1]:443" and "192.0.2.1:443" as some proxies write them.
    if address.startswith("[") and "]" in address:
        address = address[1 : address.index("]")]
    elif address.count(":") == 1:
        address = address.split(":", 1)[0]
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client as far as our own proxies vouch for it; None when unknown.

    Never an invented address: evidence and the audit trail record what is known,
    and nothing when nothing is.
    """
    peer = _parse(request.META.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return None
    trusted = _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not trusted or not any(peer in net for net in trusted):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [h for h in forwarded.split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # A malformed entry: the chain cannot be followed past it. The last
            # address we could vouch for is the best we know.
            break
        client = address
        if not any(address in net for net in trusted):
            break
    return str(client)
