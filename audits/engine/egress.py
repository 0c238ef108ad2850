"""The browser's address fence: from a public start URL, Chromium opens no connection to a
loopback, private or link-local address, whatever the page asks for.

Chromium's contexts are given a SOCKS5 proxy on 127.0.0.1 that lives in a thread of its own:
:class:`EgressProxy`. Chromium hands it every connection it would open (documents and
subresources, ``fetch()``/XHR, WebSockets, ``<link rel=preconnect>``, prefetches, beacons; loopback
too, as Playwright removes Chromium's implicit loopback bypass) with the host *name*, so the
proxy resolves the name itself, drops every address :func:`crawler.egress.allowed` refuses, and
connects only to the addresses it checked: a DNS name pointing at 10.0.0.1 and a rebinding DNS
server are refused like the literal address. Chromium itself does no DNS lookup under a SOCKS5
proxy. WebRTC, which can send UDP past any proxy, is kept to proxied connections by the launch
flag ``--force-webrtc-ip-handling-policy=disable_non_proxied_udp`` (:mod:`audits.engine.browser`).

A start URL that is itself private (an intranet, the demo, ``check --dir``) gets no proxy: the
fence is for audits of public sites, which are the ones an attacker can point at.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
from typing import Awaitable, Callable

from crawler.egress import allowed

from audits.errors import ConfigError

log = logging.getLogger("a11ycrawl.egress")

Resolver = Callable[[str, int], Awaitable[list[str]]]
Connector = Callable[[str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]

# SOCKS5 reply codes (RFC 1928)
_OK, _FAILURE, _NOT_ALLOWED, _UNREACHABLE, _REFUSED, _BAD_COMMAND, _BAD_ADDRESS = 0, 1, 2, 4, 5, 7, 8


async def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


async def _open_connection(address: str, port: int):
    return await asyncio.wait_for(asyncio.open_connection(address, port), timeout=15)


class EgressProxy:
    """A SOCKS5 proxy (CONNECT only, no authentication) that connects only to public addresses.

    ``refused`` lists ``(host, port, addresses)`` for every connection it turned down.
    ``resolver`` and ``connector`` can be replaced (tests give fakes, so that no packet can
    reach a private address even if the fence were broken).
    """

    HANDSHAKE_TIMEOUT = 15.0

    def __init__(self, resolver: Resolver | None = None, connector: Connector | None = None,
                 host: str = "127.0.0.1"):
        self.host = host  # where it listens: loopback, or an address Selenium Grid's nodes reach
        self.resolver = resolver or _getaddrinfo
        self.connector = connector or _open_connection
        self.refused: list[tuple[str, int, tuple[str, ...]]] = []
        self.connected = 0
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle (the proxy runs on an event loop in its own thread, so the audit's loop,
    #    busy with Scrapy and Playwright, never holds up the page's bytes) -------------------
    def start(self) -> "EgressProxy":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(self.handle, self.host, 0))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # pragma: no cover - no free port
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                loop.run_until_complete(self._server.wait_closed())
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.run_until_complete(asyncio.sleep(0))
                loop.close()

        self._thread = threading.Thread(target=run, name="a11ycrawl-egress", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def close(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> "EgressProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def context_options(self) -> dict:
        """Options for Playwright's ``browser.new_context``."""
        return {"proxy": {"server": f"socks5://{self.server_host()}:{self.port}"}}

    def server_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    # -- one connection ---------------------------------------------------------------------
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            target = await asyncio.wait_for(self._negotiate(reader, writer), self.HANDSHAKE_TIMEOUT)
            if target is None:
                return
            host, port = target
            try:
                addresses = await self.resolver(host, port)
            except OSError:
                await self._reply(writer, _UNREACHABLE)
                return
            good = [a for a in addresses if allowed(a)]
            if not good:
                self.refused.append((host, port, tuple(addresses)))
                log.info("address fence: the browser asked for %s:%d (%s), a non-public address: refused",
                         host, port, ", ".join(addresses) or "no address")
                await self._reply(writer, _NOT_ALLOWED)
                return
            up_reader = None
            for address in good:
                try:
                    up_reader, upstream = await self.connector(address, port)
                    break
                except (OSError, asyncio.TimeoutError):
                    continue
            if up_reader is None or upstream is None:
                await self._reply(writer, _REFUSED)
                return
            self.connected += 1
            await self._reply(writer, _OK)
            # whichever side closes first ends the tunnel (a hostile server that never closes
            # cannot keep it open once Chromium has let go)
            pipes = [asyncio.ensure_future(_pipe(reader, upstream)), asyncio.ensure_future(_pipe(up_reader, writer))]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in pipes:
                    task.cancel()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    w.close()

    async def _negotiate(self, reader, writer) -> tuple[str, int] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5 or 0 not in methods:
            writer.write(b"\x05\xff")  # no acceptable method
            return None
        writer.write(b"\x05\x00")
        version, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        elif kind == 4:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        elif kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode("ascii", "replace")
        else:
            await self._reply(writer, _BAD_ADDRESS)
            return None
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if version != 5 or command != 1:  # CONNECT only: no BIND, no UDP ASSOCIATE
            await self._reply(writer, _BAD_COMMAND)
            return None
        return host.strip("[]"), port

    @staticmethod
    async def _reply(writer, code: int) -> None:
        writer.write(bytes([5, code, 0, 1]) + bytes(6))
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass


def context_options(proxy: EgressProxy | None, scope) -> dict:
    """Options for Playwright's ``browser.new_context`` that go with the address fence.

    A public start URL: the proxy. A private one (an intranet, the demo, ``check --dir``): no
    fence, and Chromium's own Local Network Access check is switched off, as it would misjudge
    the page: the document under audit is handed to Chromium from the crawler's copy, which it
    counts as a *public* page, so it would refuse the site's own images, styles and scripts on
    other private hosts or ports (after opening a connection to them all the same). A visitor
    on that network sees them, and so should the audit.
    """
    if proxy is not None:
        return proxy.context_options()
    # no proxy and a public start URL: remote browsers whose network is fenced already
    return {"permissions": ["local-network-access"]} if scope.allow_private else {}


def start_for(scope, host: str = "127.0.0.1") -> EgressProxy | None:
    """The proxy for a run whose start URL is public; None when the start URL is itself private.
    ``host``: the address it listens on (``egress_host``: loopback for a browser on this machine,
    an address of this machine that Selenium Grid's nodes reach for theirs)."""
    if scope.allow_private:
        return None
    try:
        return EgressProxy(host=host).start()
    except OSError as exc:
        raise ConfigError(f"egress_host: the address fence's proxy cannot listen on {host} ({exc.strerror or exc}); "
                          "give an address of this machine") from None

