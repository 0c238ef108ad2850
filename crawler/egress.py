"""The address fence: from a public start URL, no connection to a loopback, private or
link-local address.

:class:`crawler.urls.Scope` refuses URLs whose host is such an address written out (an IP
literal, ``localhost``). A DNS name is judged here, by the addresses it resolves to, at the
moment of connecting: the crawler's name resolver drops every address that
:func:`crawler.urls.is_private_ip` refuses before Twisted connects, so the address checked is
the address used (no second lookup for a rebinding DNS server to answer differently). The
browser's connections go through :mod:`audits.engine.egress`, which asks :func:`allowed` too.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Callable

from . import urls

log = logging.getLogger("a11ycrawl.egress")


def allowed(address: str) -> bool:
    """True when an IP address may be connected to from a public start URL."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return False
    return not urls.is_private_ip(ip)


def resolve(host: str, port: int = 80) -> list[str]:
    """Every address ``host`` resolves to (blocking; an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def host_is_private(host: str, resolver: Callable[[str], list[str]] = resolve) -> bool:
    """Whether a start URL's host is itself loopback, private or link-local: a literal or
    ``localhost`` is judged as written, a DNS name by what it resolves to (all of its addresses;
    a name that does not resolve counts as public, so the fence stays on)."""
    host = host.strip("[]").lower().rstrip(".")
    if urls.is_private_host(host):
        return True
    if urls.parse_ip(host) is not None:
        return False
    try:
        addresses = resolver(host)
    except OSError:
        return False
    return bool(addresses) and not any(allowed(a) for a in addresses)


def fence_name_resolution(scope, reactor=None) -> Callable[[], None]:
    """Install the fenced name resolver on Twisted's reactor while a crawl from a public start
    URL runs; returns the function that puts the previous resolver back. A start URL that is
    itself private (``scope.allow_private``) needs no fence: nothing changes."""
    if scope.allow_private:
        return lambda: None
    if reactor is None:
        from twisted.internet import reactor  # type: ignore[no-redef]
    previous = reactor.nameResolver
    reactor.installNameResolver(FencedNameResolver(previous))

    def restore() -> None:
        if isinstance(reactor.nameResolver, FencedNameResolver):
            reactor.installNameResolver(previous)

    return restore


class FencedNameResolver:
    """An ``IHostnameResolver`` that passes on only the addresses :func:`allowed` accepts.

    Twisted's ``HostnameEndpoint`` (what Scrapy's HTTP client connects with) resolves every host
    through ``reactor.nameResolver``, IP literals included, and connects only to the addresses
    it is given: a host left with none fails as a DNS error and is recorded as a
    ``connection_error``. ``refused`` counts the addresses dropped.
    """

    def __init__(self, inner):
        self.inner = inner
        self.refused: list[tuple[str, str]] = []

    def resolveHostName(self, resolutionReceiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        from zope.interface import implementer
        from twisted.internet.interfaces import IResolutionReceiver

        fence = self

        @implementer(IResolutionReceiver)
        class Receiver:
            def resolutionBegan(self, resolution):
                resolutionReceiver.resolutionBegan(resolution)

            def addressResolved(self, address):
                if allowed(address.host):
                    resolutionReceiver.addressResolved(address)
                else:
                    fence.refused.append((hostName, address.host))
                    log.info("address fence: %s resolves to %s, a non-public address: not contacted",
                             hostName, address.host)

            def resolutionComplete(self):
                resolutionReceiver.resolutionComplete()

        self.inner.resolveHostName(Receiver(), hostName, portNumber, addressTypes, transportSemantics)
        return resolutionReceiver


def _register() -> None:
    from zope.interface import classImplements
    from twisted.internet.interfaces import IHostnameResolver

    classImplements(FencedNameResolver, IHostnameResolver)


try:  # Twisted comes with Scrapy; the decision functions above need neither
    _register()
except ImportError:  # pragma: no cover
    pass
