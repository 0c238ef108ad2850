"""crawler.failures and crawler.middlewares: download failures classified by exception type (real
Scrapy and Twisted exceptions, chained the way Scrapy's download handler chains them, wrapped in
a Twisted Failure as an errback gets them), the fences' own exceptions, and Retry-After."""

import gzip

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import (
    CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError, DownloadFailedError,
    DownloadTimeoutError, IgnoreRequest, ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from twisted.internet import defer, error
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived
from twisted.web.http import PotentialDataLoss

from crawler.failures import FAILURE_RULES, SKIPPED_CODES, Fenced, classify_failure, state_of
from crawler.middlewares import RedirectFenceMiddleware, RetryAfterMiddleware, ScopeMiddleware, retry_after_seconds
from crawler.urls import Scope

URL = "http://example.org/page"


def failure(exc: BaseException, request: Request | None = None) -> Failure:
    """A Failure as Scrapy hands it to an errback: raised, caught, with ``.request`` set."""
    try:
        raise exc
    except BaseException:
        f = Failure()
    f.request = request or Request(URL)
    return f


def wrapped(outer: type[BaseException], inner: BaseException) -> BaseException:
    """``raise outer(str(inner)) from inner``, as Scrapy's download handler wraps Twisted's errors."""
    try:
        try:
            raise inner
        except BaseException as e:
            raise outer(str(e)) from e
    except BaseException as e:
        return e


def never_received(*reasons: BaseException) -> BaseException:
    return wrapped(DownloadFailedError, ResponseNeverReceived([Failure(r) for r in reasons]))


def response_failed(*reasons: BaseException) -> BaseException:
    return wrapped(DownloadFailedError, ResponseFailed([Failure(r) for r in reasons]))


def test_timeout_says_how_long():
    req = Request(URL, meta={"download_timeout": 6.0})
    code, reason = classify_failure(failure(DownloadTimeoutError(f"Getting {URL} took longer than 6.0 seconds."), req))
    assert (code, reason) == ("timeout", "no complete response within 6 s")


@pytest.mark.parametrize("exc, code, words", [
    # Scrapy 2.15+ exceptions, chained to the Twisted ones as the download handler raises them
    (wrapped(DownloadTimeoutError, error.TimeoutError()), "timeout", "time limit"),
    (DownloadCancelledError("Expected to receive 52428800 bytes which is larger than download max size (2000000)"),
     "too_large", "larger than the size limit"),
    (wrapped(CannotResolveHostError, error.DNSLookupError("no results for hostname lookup: x.invalid")),
     "connection_error", "host name could not be resolved"),
    (wrapped(DownloadConnectionRefusedError, error.ConnectionRefusedError()), "connection_error", "refused"),
    (never_received(error.ConnectionLost()), "connection_error", "closed the connection without an answer"),
    (never_received(error.ConnectionDone()), "connection_error", "closed the connection without an answer"),
    (response_failed(ValueError("('non-integer status code', b'THIS IS NOT HTTP')")), "protocol_error", "malformed"),
    # cut short by a reset: the reset is among the reasons, but "cut short" is what happened
    (wrapped(ResponseDataLossError, ResponseFailed([Failure(error.ConnectionLost())])), "protocol_error", "cut short"),
    # Twisted's own exceptions, as they reach an errback unwrapped
    (error.TimeoutError(), "timeout", "time limit"),
    (defer.CancelledError(), "too_large", "size limit"),
    (PotentialDataLoss(), "protocol_error", "cut short"),
    (error.DNSLookupError("x.invalid"), "connection_error", "host name"),
    (error.ConnectionRefusedError(), "connection_error", "refused"),
    (error.TCPTimedOutError(), "connection_error", "could not be reached"),
    (error.NoRouteError(), "connection_error", "could not be reached"),
    (ResponseNeverReceived([Failure(error.ConnectionLost())]), "connection_error", "without an answer"),
    (ResponseFailed([Failure(ValueError("bad header"))]), "protocol_error", "malformed"),
    (RuntimeError("something else"), "connection_error", "RuntimeError: something else"),
])
def test_download_failures_by_type(exc, code, words):
    got_code, reason = classify_failure(failure(exc))
    assert got_code == code and words in reason, (got_code, reason)


def test_parse_error_detail_names_the_inner_exception():
    from twisted.web._newclient import ParseError  # the real one, as the garbage response gives it

    _, reason = classify_failure(failure(response_failed(ParseError("non-integer status code", b"THIS IS NOT HTTP"))))
    assert reason.startswith("the response was malformed (ParseError:") and "THIS IS NOT HTTP" in reason


def test_every_rule_is_reachable():
    """No rule is shadowed by an earlier one: an instance of each rule's first type lands on it."""
    for types, code, message in FAILURE_RULES:
        for t in types:
            exc = t([]) if issubclass(t, ResponseFailed) else t("x")
            got_code, reason = classify_failure(failure(exc))
            assert got_code == code and message in reason, t


def test_messages_never_carry_a_whole_long_url():
    long_url = "http://example.org/" + "x" * 5000
    for exc in (DownloadTimeoutError(f"Getting {long_url} took longer than 30 seconds."),
                DownloadCancelledError(f"Received 5 bytes, larger than download max size in request <GET {long_url}>"),
                IgnoreRequest(f"Filtered offsite request to {long_url!r}"), RuntimeError(long_url)):
        _, reason = classify_failure(failure(exc, Request(long_url)))
        assert len(reason) < 300, (type(exc), len(reason))


# -- IgnoreRequest: robots.txt, redirects, decompression, our own fences -----------------------


def test_robots():
    assert classify_failure(failure(IgnoreRequest("Forbidden by robots.txt"))) == (
        "robots_disallowed", "disallowed by robots.txt")


def redirect_chain(locations: list[str], max_times: int) -> Failure:
    """Run Scrapy's RedirectMiddleware over 302s to ``locations`` until it gives up."""
    mw = RedirectMiddleware.from_crawler(get_crawler(settings_dict={"REDIRECT_MAX_TIMES": max_times}))
    req = Request("http://example.org/r0")
    for loc in locations:
        try:
            req = mw.process_response(req, Response(req.url, status=302, headers={"Location": loc}, request=req))
        except IgnoreRequest as exc:
            return failure(exc, req)
    raise AssertionError("the redirect middleware did not give up")


def test_redirect_loop():
    code, reason = classify_failure(redirect_chain(["/r1", "/r0", "/r1", "/r0", "/r1"], max_times=3))
    assert code == "redirect_loop" and reason.startswith("redirects come back to http://example.org/r")


def test_too_many_redirects():
    assert classify_failure(redirect_chain([f"/r{i}" for i in range(1, 10)], max_times=4)) == (
        "too_many_redirects", "more than 4 redirects")


def test_decompression_bomb():
    mw = HttpCompressionMiddleware.from_crawler(get_crawler(settings_dict={"DOWNLOAD_MAXSIZE": 1000}))
    req = Request(URL)
    resp = Response(URL, headers={"Content-Encoding": "gzip"}, body=gzip.compress(b"\0" * 100_000), request=req)
    with pytest.raises(IgnoreRequest) as exc:
        mw.process_response(req, resp)
    assert classify_failure(failure(exc.value, req))[0] == "too_large"


def test_fenced_carries_its_own_code():
    f = failure(Fenced("trap_limit", "more than 5 pages share the template x", final_url=URL))
    assert classify_failure(f) == ("trap_limit", "more than 5 pages share the template x")


def test_other_ignored_requests():
    code, reason = classify_failure(failure(IgnoreRequest("Filtered offsite request to 'other.org'")))
    assert code == "out_of_scope" and "other.org" in reason


def test_states_agree_with_the_reason_vocabulary():
    from audits.reasons import REASONS
    from audits.reasons import state_of as audit_state

    assert SKIPPED_CODES <= set(REASONS)
    for code in REASONS:
        assert state_of(code) == audit_state(code), code
    for _, code, _ in FAILURE_RULES:
        assert code in REASONS


# -- the fences as downloader middlewares ------------------------------------------------------


def test_scope_middleware_fences_length_and_hosts():
    mw = ScopeMiddleware(Scope.for_start_url("http://example.org/"))
    base = "http://example.org/"
    assert mw.process_request(Request(base + "a" * (2048 - len(base)))) is None
    with pytest.raises(Fenced) as exc:
        mw.process_request(Request(base + "a" * (2049 - len(base))))
    assert exc.value.reason_code == "url_too_long" and len(exc.value.reason) < 150
    with pytest.raises(Fenced) as exc:
        mw.process_request(Request("http://other.org/x", meta={"redirect_urls": [base]}))
    assert exc.value.reason_code == "out_of_scope" and exc.value.reason.endswith("to http://other.org/x")
    assert exc.value.final_url == "http://other.org/x"


def test_redirect_fence_checks_each_hop_once():
    calls = []

    class Spider:
        def check_redirect(self, request):
            calls.append(request.url)

    class Crawler:
        spider = Spider()

    mw = RedirectFenceMiddleware(Crawler())
    page = {"norm": "http://example.org/a"}
    mw.process_request(Request("http://example.org/a", meta=dict(page)))  # not a hop
    sitemap = Request("http://example.org/s.xml", meta={"redirect_urls": ["x"], "redirect_times": 1})
    mw.process_request(sitemap)  # not a page
    hop = Request("http://example.org/b", meta={**page, "redirect_urls": ["http://example.org/a"], "redirect_times": 1})
    mw.process_request(hop)
    mw.process_request(hop.replace(meta={**hop.meta, "retry_times": 1}))  # a retry of the same hop
    nxt = hop.replace(url="http://example.org/c", meta={**hop.meta, "redirect_times": 2,
                                                       "redirect_urls": ["http://example.org/a", "http://example.org/b"]})
    mw.process_request(nxt)
    assert calls == ["http://example.org/b", "http://example.org/c"]


# -- Retry-After --------------------------------------------------------------------------------

NOW = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize("value, seconds", [
    (b"120", 120.0), ("0", 0.0), ("  7 ", 7.0), (b"007", 7.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
    ("Wed, 21 Oct 2015 07:28:30", 30.0),  # no zone: an HTTP date is GMT
    ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),  # the obsolete RFC 850 form
    ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: no wait
    ("Wed Oct 21 07:28:05 2015", 5.0),  # asctime
])
def test_retry_after_valid(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds


def test_retry_after_date_without_a_zone_is_gmt_whatever_the_local_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30", now=NOW) == 30.0
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("value", [
    None, b"", "   ", "soon", "-5", "-0", "1.5", "1e3", "0x10", "\u00b2", "\u0661\u0662", "inf", "NaN",
    "Wed, 31 Feb 2015 07:28:30 GMT", "Wed, 21 Oct 2015 25:61:00 GMT", "Wed, 99 Foo 2015", b"\xff\xfe",
])
def test_retry_after_junk_is_ignored(value):
    assert retry_after_seconds(value, now=NOW) is None


def test_retry_after_huge_values_are_capped_by_the_middleware():
    mw = RetryAfterMiddleware([429, 503, 500], max_retries=1)
    assert retry_after_seconds("9" * 400) > mw.MAX_WAIT
    assert mw.wait_seconds(429, "9" * 400, 0) == mw.MAX_WAIT
    assert mw.wait_seconds(503, "Fri, 31 Dec 9999 23:59:59 GMT", 0, now=NOW) == mw.MAX_WAIT
    assert mw.wait_seconds(429, "2", 0) == 2.0
    assert mw.wait_seconds(503, "soon", 2) == 2.0  # junk: exponential backoff, 0.5 s * 2 ** tries
    assert mw.wait_seconds(500, "30", 1) == 1.0  # Retry-After counts on 429 and 503 only
    assert mw.wait_seconds(500, None, 20) == mw.MAX_WAIT
