"""The exceptions a11ycrawl raises. The library raises them; only the CLI turns them into
one-line messages and exit code 2. A page that fails to audit is *data* (a stored result
with a reason code), never one of these.

    A11yCrawlError                 base: message is a complete, user-facing sentence
     +-- ConfigError               bad option, config file, URL or environment value
     +-- BrowserError              no Chromium found, or it would not start
     +-- CrawlError                the site could not be crawled at all (unreachable start URL, ...)
     +-- StoreError                the database cannot be opened, or is not ours / too new
     +-- OutputError               a report, export or CI file could not be written
"""

from __future__ import annotations


class A11yCrawlError(Exception):
    """Base class; ``str(exc)`` is a one-line message fit for the user."""


class ConfigError(A11yCrawlError):
    """Invalid configuration: names the source (file, key or flag) and the fix."""


class BrowserError(A11yCrawlError):
    """Chromium is missing or could not be launched."""


class CrawlError(A11yCrawlError):
    """The site could not be crawled at all. ``run_id`` is the run stored as failed, if one was."""

    def __init__(self, message: str, run_id: int | None = None):
        super().__init__(message)
        self.run_id = run_id


class StoreError(A11yCrawlError):
    """The results database cannot be used."""


class OutputError(A11yCrawlError):
    """A file the user asked for (report, export, JSON, JUnit, SARIF) could not be written."""
