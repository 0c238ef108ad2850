"""Login secrets and the origins they may be sent to. Pure; shared by the crawler's
:class:`crawler.middlewares.LoginMiddleware` and the browser's request fence.

A secret goes only to the origins the login is for (``scheme://host:port``, compared exactly):
never to another port of the same host, a subdomain, a host added with ``--allow-host``, a
redirect target elsewhere or a third party the page loads from. Its ``repr`` names no value, so
Scrapy's "Overridden settings" log line and any traceback print none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .urls import origin


@dataclass(frozen=True, repr=False)
class Credentials:
    """Headers and cookies for ``origins``; basic auth for ``basic_origin`` only."""

    origins: frozenset[str] = frozenset()
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    basic_origin: str | None = None
    basic_user: str | None = field(default=None)
    basic_password: str | None = field(default=None)

    def __repr__(self) -> str:
        what = [f"{len(self.headers)} header(s)", f"{len(self.cookies)} cookie(s)"]
        if self.basic_user is not None:
            what.append("basic auth")
        return f"Credentials({', '.join(what)} for {sorted(self.origins)}, values hidden)"

    def __bool__(self) -> bool:
        return bool(self.headers or self.cookies or self.basic_user is not None)

    def applies_to(self, url: str) -> bool:
        """True when headers and cookies may be sent to ``url``."""
        try:
            return origin(url) in self.origins
        except ValueError:
            return False

    def basic_applies_to(self, url: str) -> bool:
        try:
            return self.basic_origin is not None and origin(url) == self.basic_origin
        except ValueError:
            return False

    @property
    def header_names(self) -> frozenset[str]:
        return frozenset(k.lower() for k, _ in self.headers)

    def cookie_header(self, existing: str | None) -> str | None:
        """``existing`` (the browser's or Scrapy's own Cookie header) with our cookies added; a
        cookie the site has since set under the same name wins (it is the fresher one)."""
        present = {part.split("=", 1)[0].strip() for part in (existing or "").split(";") if part.strip()}
        ours = [f"{k}={v}" for k, v in self.cookies if k not in present]
        if not ours:
            return existing
        return "; ".join(([existing] if existing else []) + ours)

    def values(self) -> list[str]:
        """Every secret value, for log redaction."""
        out = [v for _, v in self.headers] + [v for _, v in self.cookies]
        out += [v for v in (self.basic_user, self.basic_password) if v]
        return out
