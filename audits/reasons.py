"""The vocabulary of reason codes: why a URL was skipped or failed. Stored in ``pages.reason_code``
and printed in JSON; documented in the README. Keep this list and the README in step."""

REASONS: dict[str, tuple[str, str]] = {
    # code: (state, meaning)
    "http_error": ("failed", "the server answered with an HTTP error status (4xx/5xx other than 404 and 410)"),
    "broken_link": ("skipped", "a linked URL answers 404 Not Found or 410 Gone: a broken link, listed apart with "
                               "the page that links it, never counted against coverage"),
    "timeout": ("failed", "the page did not load within the time limit"),
    "too_many_redirects": ("failed", "more redirects than allowed"),
    "redirect_loop": ("failed", "the redirects go round in a circle"),
    "too_large": ("failed", "the response is larger than the size limit"),
    "connection_error": ("failed", "the server could not be reached (refused, reset, DNS)"),
    "protocol_error": ("failed", "the response was malformed or cut short"),
    "renderer_crashed": ("failed", "Chromium's renderer crashed on the page"),
    "browser_lost": ("failed", "the remote browser went away with the page in flight, twice (or none was left)"),
    "audit_timeout": ("failed", "the page loaded but axe did not finish within the time limit"),
    "audit_error": ("failed", "axe-core raised an error on the page"),
    "navigated_away": ("failed", "the page navigated elsewhere while it was being audited"),
    "navigation_aborted": ("failed", "the browser's navigation to the page was aborted, and again when tried once more"),
    "auth_required": ("skipped", "the page needs a login (HTTP 401 or 407)"),
    "not_html": ("skipped", "the response is not an HTML page"),
    "download": ("skipped", "the URL triggers a file download"),
    "out_of_scope": ("skipped", "outside the audit's scope (its hosts, the start URL's directory, include/exclude patterns)"),
    "robots_disallowed": ("skipped", "robots.txt disallows it"),
    "non_http_scheme": ("skipped", "not an http(s) URL (mailto:, tel:, javascript:, ...)"),
    "url_too_long": ("skipped", "the URL is longer than 2048 characters"),
    "duplicate": ("skipped", "the same page as another URL (redirect or normalisation)"),
    "trap_limit": ("skipped", "a crawler trap: template, query or path-repetition cap reached"),
    "page_budget": ("skipped", "the run's page budget (--max-pages) was reached"),
    "time_budget": ("skipped", "the run's time budget (--max-time) ran out"),
    "interrupted": ("skipped", "the run was stopped before this URL was audited"),
    "depth_limit": ("skipped", "further from the start URL than --max-depth links"),
}

#: Codes for URLs a run did not get to: a resumed run audits them.
UNFINISHED = frozenset({"time_budget", "interrupted"})


def state_of(code: str) -> str:
    """'failed' or 'skipped': the state a reason code belongs to."""
    return REASONS[code][0]
