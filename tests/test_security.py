"""Secrets and addresses: what an attacker's site must not get out of an audit.

1. No log level prints a secret (``-v`` shows Scrapy's settings, our own lines, every traceback).
2. Headers and cookies from the environment go only to the login's origins: another origin that
   ``--allow-host`` admits, whether another port or another host name, receives none of them,
   from the crawler or from the browser (links, robots.txt, redirects, images, scripts, styles,
   frames, fetch()).
3. From a public start URL nothing connects to a loopback, private or link-local address: the
   crawler's name resolver and the browser's SOCKS5 proxy drop such addresses. End-to-end with
   loopback only (tests/as_public.py makes 127.0.0.2 count as public); the decisions for
   169.254.169.254, 10.0.0.1 and friends are tested as units, with fake resolvers and
   connectors, so that no packet could leave even if a fence were broken.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import pprint
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import load_json, run_cli
from fixture_site import page

from audits.engine.static_server import LoopbackServer, Reply
from crawler.credentials import Credentials
from crawler.urls import Scope, is_private_host

USER, PASSWORD, TOKEN, SESSION = "resident-x", "pw-Zq81!secret", "tok-Hk2x9Vq", "sess-Lm40pW7"
SECRETS = (PASSWORD, TOKEN, SESSION, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
ENV = {"SEC_USER": USER, "SEC_PASS": PASSWORD, "SEC_TOKEN": TOKEN, "SEC_SESSION": SESSION}
LOGIN = """
[login]
basic_user_env = "SEC_USER"
basic_password_env = "SEC_PASS"
headers_env = { "X-Api-Token" = "SEC_TOKEN" }
cookies_env = { "sess" = "SEC_SESSION" }
"""
TESTS = Path(__file__).parent


def _signed_in(h) -> bool:
    want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return (h.headers.get("Authorization") == want and h.headers.get("X-Api-Token") == TOKEN
            and f"sess={SESSION}" in (h.headers.get("Cookie") or ""))


def _members(title: str, body: str):
    def route(h):
        if not _signed_in(h):
            return Reply(401, "sign in", "text/plain", headers={"WWW-Authenticate": 'Basic realm="council"'})
        return Reply(body=page(title, body))
    return route


def _entries(server: LoopbackServer) -> list[tuple]:
    """(method, path and query, headers) of every request the server answered."""
    return [(r.method, r.target, dict(r.headers)) for r in server.log]


def _leaks(server: LoopbackServer) -> list:
    """Requests ``server`` received that carried any secret (in any header)."""
    out = []
    for method, path, headers in _entries(server):
        text = " ".join(f"{k}: {v}" for k, v in headers.items())
        if any(s in text for s in SECRETS) or "authorization" in text.lower():
            out.append((method, path, headers))
    return out


# -- 1. secrets are never printed ---------------------------------------------------------------

@pytest.mark.browser
def test_verbose_audit_prints_no_secret(serve, tmp_path):
    site = serve({
        "/": _members("Members", '<a href="/bills">Bills</a>'),
        "/bills": _members("Bills", "<p>None.</p>"),
        "/robots.txt": Reply(404),
    })
    (tmp_path / "a11ycrawl.toml").write_text(LOGIN)
    # a real process: -v sets up logging for the whole process, and every line it prints counts
    res = run_cli("audit", site.url, "-v", "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
                  cwd=tmp_path, env=ENV)
    assert res.returncode == 0, res.stderr[-2000:]
    states = {p["url"]: p["status"] for p in load_json(tmp_path / "r.json")["pages"]}
    assert list(states.values()).count("audited") == 2, states  # the secrets were used
    assert "Overridden settings" in res.stderr and "INFO:a11ycrawl" in res.stderr  # -v logged
    for secret in SECRETS + (USER,):
        assert secret not in res.stderr and secret not in res.stdout, secret
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name != "a11ycrawl.toml")
    assert not any(s.encode() in blob for s in SECRETS)


def test_crawl_settings_name_no_secret():
    from crawler.run import CrawlOptions
    from crawler.settings import build_settings

    opts = CrawlOptions(start_url="https://council.example/", scope=Scope.for_start_url("https://council.example/"),
                        headers={"X-Api-Token": TOKEN}, cookies={"sess": SESSION}, http_user=USER,
                        http_password=PASSWORD)
    printed = pprint.pformat(build_settings(opts, sink=None)) + repr(opts)
    assert not any(s in printed for s in SECRETS + (USER,)), printed


def test_redactor_scrubs_every_record_and_traceback():
    from audits.engine.login import REDACTOR

    secret = "redact-me-7Q2"
    REDACTOR.add(secret)
    stream = __import__("io").StringIO()
    handler = logging.StreamHandler(stream)  # a handler that knows nothing of secrets
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    try:
        logger.warning("settings: %(s)s", {"s": {"HTTPAUTH_PASS": secret}})
        try:
            raise RuntimeError(f"header was {secret}")
        except RuntimeError:
            logger.exception("failed with %s", secret)
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert secret not in out and out.count("***") >= 3 and "RuntimeError" in out, out


# -- 2. secrets go only to the login's origins --------------------------------------------------

@pytest.mark.browser
def test_secrets_reach_no_other_origin(cli, serve, tmp_path):
    other = serve({"/": Reply(body=page("Other", "<p>Other origin.</p>")),
                   "/api": Reply(body="{}", ctype="application/json", headers={"Access-Control-Allow-Origin": "*"})})
    port = other.server_address[1]
    # the same server reached as another port of the same host and as another host name
    same_host, other_host = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    body = f"""<p>Hello.</p>
<a href="{same_host}/page-a">Other port</a> <a href="{other_host}/page-b">Other host</a>
<a href="/go-away">Redirect</a>
<img src="{same_host}/img.png" alt=""> <img src="{other_host}/img2.png" alt="">
<img src="/img-redirect" alt="">
<link rel="stylesheet" href="{same_host}/style.css"><script src="{other_host}/app.js"></script>
<iframe src="{same_host}/frame" title="frame"></iframe>
<script>fetch("{same_host}/api").catch(() => 0); fetch("{other_host}/api").catch(() => 0);</script>"""
    site = serve({
        "/": _members("Members", body),
        "/go-away": lambda h: Reply(302, headers={"Location": f"{same_host}/landing"}) if _signed_in(h) else Reply(401),
        "/img-redirect": Reply(302, headers={"Location": f"{other_host}/redirected.png"}),
        "/robots.txt": Reply(404),
    })
    (tmp_path / "a11ycrawl.toml").write_text(LOGIN)
    res = cli("audit", site.url, "--allow-host", f"127.0.0.1:{port}", "--allow-host", f"localhost:{port}",
              "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"), cwd=tmp_path, env=ENV)
    assert res.returncode == 0, res.stderr[-2000:]
    audited = {p["url"] for p in load_json(tmp_path / "r.json")["pages"] if p["status"] == "audited"}
    assert site.url in audited
    # the crawler's requests and Chromium's, told apart by the headers only Chromium sends
    paths = {path for _, path, _ in _entries(other)}
    browser_paths = {path for _, path, h in _entries(other) if "Sec-Fetch-Dest" in h}

    # the other origin was really asked, by the crawler and by the browser, through every path
    assert {"/page-a", "/page-b", "/landing", "/robots.txt", "/style.css", "/app.js", "/frame", "/api"} <= paths, paths
    assert {"/img.png", "/img2.png", "/redirected.png", "/style.css", "/app.js", "/frame", "/api"} <= browser_paths, \
        browser_paths
    assert _leaks(other) == []
    # and the login's own origin received them from the browser too (subresources, fetch)
    assert any(_signed_in_headers(h) for _, path, h in _entries(site) if path == "/img-redirect")


def _signed_in_headers(headers: dict) -> bool:
    return headers.get("X-Api-Token") == TOKEN and f"sess={SESSION}" in (headers.get("Cookie") or "")


def _request(url: str, headers: dict | None = None):
    from scrapy import Request

    return Request(url, headers=headers or {})


def test_login_middleware_by_origin():
    from crawler.middlewares import LoginMiddleware

    creds = Credentials(origins=frozenset({"https://council.example", "https://login.council.example"}),
                        headers=(("X-Api-Token", TOKEN),), cookies=(("sess", SESSION),),
                        basic_origin="https://council.example", basic_user=USER, basic_password=PASSWORD)
    mw = LoginMiddleware(creds)
    ok = _request("https://council.example/a", {"Cookie": "site=1"})
    mw.process_request(ok)
    assert ok.headers["X-Api-Token"] == TOKEN.encode()
    assert ok.headers["Cookie"] == f"site=1; sess={SESSION}".encode()
    assert ok.headers["Authorization"].startswith(b"Basic ")
    form = _request("https://login.council.example/sign-in")
    mw.process_request(form)
    assert form.headers["X-Api-Token"] == TOKEN.encode() and b"Authorization" not in form.headers
    for url in ("https://council.example:8443/", "http://council.example/", "https://www.council.example/",
                "https://cdn.example/x.png"):
        # as a redirect from the login's origin would: headers copied from the request it follows
        copied = _request(url, {"X-Api-Token": TOKEN, "Cookie": f"sess={SESSION}; other=2",
                                "Authorization": "Basic " + SECRETS[-1]})
        mw.process_request(copied)
        assert b"X-Api-Token" not in copied.headers and b"Authorization" not in copied.headers, url
        assert copied.headers["Cookie"] == b"other=2", url
    # a cookie the site has since set under the same name wins
    fresh = _request("https://council.example/b", {"Cookie": "sess=rotated"})
    mw.process_request(fresh)
    assert fresh.headers["Cookie"] == b"sess=rotated"


def test_browser_injector_by_origin():
    from audits.engine.login import SecretInjector

    inj = SecretInjector(Credentials(origins=frozenset({"http://127.0.0.1:8000"}),
                                     headers=(("X-Api-Token", TOKEN),), cookies=(("sess", SESSION),)))
    assert inj.patterns() == [{"urlPattern": "http://127.0.0.1:8000/*", "requestStage": "Request"}]
    mine = dict((h["name"], h["value"]) for h in inj.headers_for(
        {"url": "http://127.0.0.1:8000/x.png", "headers": {"Accept": "*/*", "Cookie": "a=1"}}))
    assert mine == {"Accept": "*/*", "X-Api-Token": TOKEN, "Cookie": f"a=1; sess={SESSION}"}
    assert inj.headers_for({"url": "http://127.0.0.1:8001/", "headers": {"Accept": "*/*"}}) is None
    stripped = inj.headers_for({"url": "http://localhost:8000/", "headers": {"x-api-token": TOKEN, "Cookie": f"sess={SESSION}"}})
    assert stripped == []
    assert SecretInjector(None).patterns() == [] and SecretInjector(None).headers_for({"url": "x", "headers": {}}) is None


# -- 3. the address fence -----------------------------------------------------------------------

@pytest.mark.parametrize("host", [
    "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "127.0.0.1", "0.0.0.0",
    "localhost", "metadata.localhost", "[::1]", "[fe80::1]", "[fc00::1]", "[::ffff:169.254.169.254]",
    "[::ffff:a00:1]", "[2002:a9fe:a9fe::]", "[64:ff9b::a00:1]", "2852039166", "0xa9.0xfe.0xa9.0xfe", "127.1",
    "0251.0376.0251.0376",
])
def test_non_public_addresses_are_refused(host):
    from crawler.egress import allowed
    from crawler.urls import parse_ip

    assert is_private_host(host)
    scope = Scope.for_start_url("https://council.example/", extra_hosts=[host])
    assert not scope.allow_private and not scope.url_host_allowed(f"http://{host}/")
    ip = parse_ip(host)
    if ip is not None:  # what the resolver and the proxy are handed: the address itself
        assert not allowed(str(ip))


def test_public_addresses_pass():
    from crawler.egress import allowed

    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert allowed(address) and not is_private_host(address)
    assert allowed("fe80::1%eth0") is False


def test_start_url_publicness_follows_its_addresses():
    from crawler.egress import host_is_private

    fake = {"intranet.council.example": ["10.1.2.3"], "www.council.example": ["93.184.216.34"],
            "mixed.council.example": ["93.184.216.34", "10.1.2.3"]}.__getitem__
    assert host_is_private("intranet.council.example", fake)
    assert not host_is_private("www.council.example", fake)
    assert not host_is_private("mixed.council.example", fake)  # any public address: fence on
    assert host_is_private("127.0.0.1", fake) and host_is_private("localhost", fake)

    def fails(host):
        raise OSError("no DNS")
    assert not host_is_private("unknown.example", fails)


def test_crawler_resolver_drops_non_public_addresses():
    from twisted.internet.address import IPv4Address, IPv6Address

    from crawler.egress import FencedNameResolver

    answers = {"intranet.council.example": ["10.0.0.1"], "metadata.council.example": ["169.254.169.254"],
               "mixed.council.example": ["10.0.0.1", "93.184.216.34", "::1"], "169.254.169.254": ["169.254.169.254"]}

    class FakeResolver:
        def resolveHostName(self, receiver, host, port=0, *args):
            receiver.resolutionBegan(None)
            for a in answers[host]:
                receiver.addressResolved((IPv6Address if ":" in a else IPv4Address)("TCP", a, port))
            receiver.resolutionComplete()

    class Receiver:
        def __init__(self):
            self.addresses, self.done = [], False

        def resolutionBegan(self, r):
            pass

        def addressResolved(self, a):
            self.addresses.append(a.host)

        def resolutionComplete(self):
            self.done = True

    fence = FencedNameResolver(FakeResolver())
    got = {}
    for host in answers:
        r = Receiver()
        fence.resolveHostName(r, host, 80)
        assert r.done
        got[host] = r.addresses
    assert got == {"intranet.council.example": [], "metadata.council.example": [],
                   "mixed.council.example": ["93.184.216.34"], "169.254.169.254": []}
    assert len(fence.refused) == 5  # every non-public address, each counted


def _socks_connect(port: int, host: str | bytes, dest_port: int) -> int:
    """One SOCKS5 CONNECT through the proxy on 127.0.0.1:port; returns the reply code."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        if isinstance(host, bytes):  # a raw IPv4 address
            s.sendall(b"\x05\x01\x00\x01" + host + struct.pack("!H", dest_port))
        else:
            s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + struct.pack("!H", dest_port))
        reply = s.recv(10)
        return reply[1]


def test_egress_proxy_refuses_before_connecting():
    from audits.engine.egress import EgressProxy

    answers = {"intranet.council.example": ["10.0.0.1"], "metadata.council.example": ["169.254.169.254"],
               "mixed.council.example": ["10.0.0.1", "93.184.216.34"], "169.254.169.254": ["169.254.169.254"],
               "10.0.0.1": ["10.0.0.1"], "www.council.example": ["93.184.216.34"]}
    attempts = []

    async def resolver(host, port):
        return answers[host]

    async def connector(address, port):  # never touches the network: records and refuses
        attempts.append(address)
        raise ConnectionRefusedError

    with EgressProxy(resolver=resolver, connector=connector) as proxy:
        codes = {host: _socks_connect(proxy.port, host, 80) for host in answers}
        codes["raw"] = _socks_connect(proxy.port, socket.inet_aton("169.254.169.254"), 80)
    assert codes == {"intranet.council.example": 2, "metadata.council.example": 2, "mixed.council.example": 5,
                     "169.254.169.254": 2, "10.0.0.1": 2, "www.council.example": 5, "raw": 2}
    assert attempts == ["93.184.216.34", "93.184.216.34"]  # public addresses only, and only tried
    assert len(proxy.refused) == 5


def test_egress_proxy_tunnels_to_allowed_addresses():
    """The proxy really carries a page's bytes (a loopback server standing for a public one)."""
    from audits.engine.egress import EgressProxy

    with LoopbackServer({"/": Reply(body="hello through the fence", ctype="text/plain")}) as server:
        async def resolver(host, port):
            return ["93.184.216.34"]

        async def connector(address, port):  # "public" address -> the loopback server
            assert address == "93.184.216.34"
            return await asyncio.open_connection("127.0.0.1", server.server_address[1])

        with EgressProxy(resolver=resolver, connector=connector) as proxy:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
                s.sendall(b"\x05\x01\x00")
                s.recv(2)
                s.sendall(b"\x05\x01\x00\x03\x0fwww.example.gov" + struct.pack("!H", 80))
                assert s.recv(10)[1] == 0
                s.sendall(b"GET / HTTP/1.1\r\nHost: www.example.gov\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello through the fence")


# {name} is intranet.test (a DNS name that as_public.py resolves to 127.0.0.1) in the fenced run;
# 127.0.0.1 in the unfenced one, where Chromium would resolve names itself, through real DNS
VICTIM_PAGE = """<p>Public page.</p>
<a href="http://{name}:{port}/linked">Intranet link</a>
<a href="http://127.0.0.1:{port}/loopback-link">Loopback link</a>
<img src="http://127.0.0.1:{port}/img.png" alt=""> <img src="http://localhost:{port}/l.png" alt="">
<img src="http://{name}:{port}/i.png" alt=""> <img src="/to-internal" alt="">
<link rel="preconnect" href="http://127.0.0.1:{port}"><link rel="stylesheet" href="http://127.0.0.1:{port}/s.css">
<iframe src="http://{name}:{port}/frame" title="frame"></iframe>
<script>
fetch("http://127.0.0.1:{port}/api").catch(() => 0);
fetch("http://{name}:{port}/api2").catch(() => 0);
try {{ new WebSocket("ws://127.0.0.1:{port}/ws"); }} catch (e) {{}}
navigator.sendBeacon("http://localhost:{port}/beacon", "x");
try {{
  const pc = new RTCPeerConnection({{iceServers: [{{urls: "stun:127.0.0.1:{udp}"}}]}});
  pc.createDataChannel("x"); pc.createOffer().then(o => pc.setLocalDescription(o));
}} catch (e) {{}}
</script>"""


def _fenced_run(tmp_path, start_host: str):
    """Serve the page on ``start_host`` and a victim on 127.0.0.1; audit through as_public.py
    (127.0.0.2 counts as public); return what reached the victim."""
    name = "intranet.test" if start_host == "127.0.0.2" else "127.0.0.1"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    with LoopbackServer({"/": Reply(body="internal")}) as victim:
        port = victim.server_address[1]
        routes = {"/": Reply(body=page("Public", VICTIM_PAGE.format(name=name, port=port, udp=udp.getsockname()[1]))),
                  "/to-internal": Reply(302, headers={"Location": f"http://{name}:{port}/redirected.png"}),
                  "/robots.txt": Reply(404)}
        with LoopbackServer(routes, host=start_host) as site:
            args = ["audit", site.url, "-v", "--allow-host", f"{name}:{port}",
                    "--allow-host", f"127.0.0.1:{port}", "--db", str(tmp_path / "a.db"),
                    "--json", str(tmp_path / "r.json")]
            res = subprocess.run([sys.executable, str(TESTS / "as_public.py"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=240,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        packets = 0
        try:
            while udp.recv(2048):
                packets += 1
        except BlockingIOError:
            pass
        udp.close()
        return res, victim.connections, [p for _, p, _ in _entries(victim)], packets


@pytest.mark.browser
def test_public_start_url_reaches_no_internal_address(tmp_path):
    res, connections, paths, packets = _fenced_run(tmp_path, "127.0.0.2")
    assert res.returncode == 0, res.stderr[-3000:]
    pages = {p["url"]: p for p in load_json(tmp_path / "r.json")["pages"]}
    assert any(p["status"] == "audited" and "127.0.0.2" in url for url, p in pages.items()), pages
    assert (connections, paths, packets) == (0, [], 0)
    # refused at the fences, not merely never asked for: the crawler's resolver and the proxy
    log = res.stderr
    assert "intranet.test resolves to 127.0.0.1" in log  # the crawler, for the link
    assert "the browser asked for intranet.test" in log and "the browser asked for 127.0.0.1" in log
    assert "the browser asked for localhost" in log


@pytest.mark.browser
def test_private_start_url_is_not_fenced(tmp_path):
    """The same page from a loopback start URL (an intranet audit) reaches the victim: proof that
    the page above really asks for all of it, so the fenced run's silence means something."""
    res, connections, paths, packets = _fenced_run(tmp_path, "127.0.0.1")
    assert res.returncode == 0, res.stderr[-3000:]
    assert connections >= 3  # (no UDP either way: see test_webrtc_sends_no_udp)
    assert {"/img.png", "/api", "/loopback-link"} <= set(paths), paths


@pytest.mark.browser
def test_webrtc_sends_no_udp():
    """WebRTC's STUN/TURN traffic is UDP that no proxy sees: Chromium is launched with it kept
    to proxied connections. Without that flag the same page sends STUN packets."""
    from playwright.async_api import async_playwright

    from audits.engine.browser import find_chromium, launch_args

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    html = page("RTC", f"""<script>
const pc = new RTCPeerConnection({{iceServers: [{{urls: "stun:127.0.0.1:{udp.getsockname()[1]}"}}]}});
pc.createDataChannel("x"); pc.createOffer().then(o => pc.setLocalDescription(o));</script>""")

    def packets() -> int:
        n = 0
        try:
            while udp.recv(2048):
                n += 1
        except BlockingIOError:
            pass
        return n

    async def run(args) -> int:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=find_chromium(None), headless=True, args=args)
            try:
                tab = await browser.new_page()
                await tab.set_content(html)
                await tab.wait_for_timeout(1500)
            finally:
                await browser.close()
        return packets()

    try:
        ours = launch_args()
        assert asyncio.run(run(ours)) == 0
        assert asyncio.run(run([a for a in ours if not a.startswith("--force-webrtc")])) > 0
    finally:
        udp.close()
