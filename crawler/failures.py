"""Why a request failed: download failures mapped to reason codes (see ``audits.reasons``) by
exception type, and the exception the crawler's own fences raise to drop a request.

Scrapy (2.15 and later) wraps the download handler's Twisted exceptions in its own
(:exc:`~scrapy.exceptions.DownloadTimeoutError` from :exc:`twisted.internet.error.TimeoutError`,
and so on), keeping the Twisted one as ``__cause__``; a response that never came or came
malformed is a :exc:`~scrapy.exceptions.DownloadFailedError` whose cause,
:exc:`twisted.web.client.ResponseFailed`, lists the underlying reasons. Classification looks
at that whole chain, with the most specific rule first.
"""

from __future__ import annotations

from typing import Any, Iterator

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectError, ConnectionClosed, DNSLookupError
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefusedError
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.web.client import ResponseFailed
from twisted.web.http import PotentialDataLoss

from .urls import normalise_url, shorten


class Fenced(IgnoreRequest):
    """A request the crawler itself drops (scope, URL length, trap, a redirect to a page
    recorded already), carrying the reason code and message to record.

    >>> Fenced("url_too_long", "redirects to a URL longer than 2048 characters").reason_code
    'url_too_long'
    """

    def __init__(self, reason_code: str, reason: str, final_url: str | None = None):
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason
        self.final_url = final_url


#: (exception types, reason code, message), most specific first. Each rule is tried against the
#: whole chain of the failure (the exception, its cause, the reasons of a ResponseFailed) before
#: the next rule: a response cut short by a reset is "cut short" (protocol), not "reset".
FAILURE_RULES: tuple[tuple[tuple[type[BaseException], ...], str, str], ...] = (
    ((DownloadTimeoutError, TxTimeoutError), "timeout", "no complete response within the time limit"),
    ((DownloadCancelledError, CancelledError), "too_large", "the response is larger than the size limit"),
    ((ResponseDataLossError, PotentialDataLoss), "protocol_error", "the response was cut short"),
    ((CannotResolveHostError, DNSLookupError), "connection_error", "the host name could not be resolved"),
    ((DownloadConnectionRefusedError, TxConnectionRefusedError), "connection_error",
     "the server refused the connection"),
    ((ConnectionClosed,), "connection_error", "the server closed the connection without an answer"),
    ((ConnectError,), "connection_error", "the server could not be reached"),
    ((DownloadFailedError, ResponseFailed), "protocol_error", "the response was malformed"),
)

#: Reason codes the crawler records as "skipped" (the rest are "failed"), as in ``audits.reasons``.
SKIPPED_CODES = frozenset({
    "robots_disallowed", "out_of_scope", "non_http_scheme", "url_too_long", "duplicate", "trap_limit",
    "depth_limit", "page_budget", "auth_required", "not_html", "download", "time_budget", "interrupted",
    "broken_link",
})


def state_of(code: str) -> str:
    """'skipped' or 'failed' for a reason code the crawler records.

    >>> state_of("trap_limit"), state_of("timeout")
    ('skipped', 'failed')
    """
    return "skipped" if code in SKIPPED_CODES else "failed"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes, and the reasons a ResponseFailed carries, outermost first."""
    todo, seen = [exc], set()
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if e.__cause__ is not None:
            todo.append(e.__cause__)
        for reason in getattr(e, "reasons", None) or ():  # ResponseFailed: a list of Failures
            value = getattr(reason, "value", reason)
            if isinstance(value, BaseException):
                todo.append(value)


def _detail(chain: list[BaseException]) -> str:
    """The innermost exception in one short line, for the reason's parenthesis."""
    inner = chain[-1]
    text = " ".join(str(inner).split())
    return shorten(f"{type(inner).__name__}: {text}" if text else type(inner).__name__, 120)


def classify_failure(failure: Any) -> tuple[str, str]:
    """Map a download failure (a Twisted Failure, as an errback gets it) to a reason code and
    message. Messages never carry a whole URL: long ones are shortened."""
    exc = failure.value
    request = getattr(failure, "request", None)
    if isinstance(exc, IgnoreRequest):
        return _ignored(exc, request)
    chain = list(_chain(exc))
    for types, code, message in FAILURE_RULES:
        if any(isinstance(e, types) for e in chain):
            if code == "timeout" and request is not None and request.meta.get("download_timeout"):
                message = f"no complete response within {request.meta['download_timeout']:g} s"
            elif code != "timeout":
                message = f"{message} ({_detail(chain)})"
            return code, message
    return "connection_error", _detail(chain)


def _ignored(exc: IgnoreRequest, request: Any) -> tuple[str, str]:
    """Scrapy's own IgnoreRequest cases: robots.txt, redirects, decompression bombs."""
    if isinstance(exc, Fenced):
        return exc.reason_code, exc.reason
    text = str(exc)
    # RobotsTxtMiddleware raises a plain IgnoreRequest: its message is all there is to go by
    if "robots.txt" in text:
        return "robots_disallowed", "disallowed by robots.txt"
    if hasattr(exc.__cause__, "decompressed_size"):  # HttpCompressionMiddleware: over DOWNLOAD_MAXSIZE
        return "too_large", "the response is larger than the size limit once decompressed"
    # RedirectMiddleware counts the redirects left in redirect_ttl; none left: too many redirects
    if request is not None and (request.meta.get("redirect_ttl") == 0 or "max redirections" in text.lower()):
        chain = [normalise_url(u) for u in request.meta.get("redirect_urls", [])]
        chain.append(normalise_url(request.url))
        if len(set(chain)) < len(chain):
            return "redirect_loop", "redirects come back to " + shorten(next(u for u in chain if chain.count(u) > 1))
        return "too_many_redirects", f"more than {len(chain) - 1} redirects"
    return "out_of_scope", shorten(text)
