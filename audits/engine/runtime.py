"""Running async work under Scrapy's asyncio reactor, with Ctrl-C handled gracefully.

Scrapy and Playwright share one asyncio event loop: Twisted's AsyncioSelectorReactor drives
it, Scrapy's AsyncCrawlerRunner crawls on it and Playwright's async API renders on it.
The reactor can run once per process, so the CLI calls :func:`run` once per command.

A process that runs one audit after another (the test suite) calls :func:`start` once instead:
the reactor is started without blocking, and each :func:`run` then runs its coroutine on the
reactor's loop until it completes; :func:`shared_playwright` gives those runs one Playwright
driver between them, and :func:`stop` ends it all.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Awaitable, Callable, TypeVar

T = TypeVar("T")

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


class Interrupted(Exception):
    """Raised inside the main coroutine's caller when the user pressed Ctrl-C (or SIGTERM)."""


class _Started:
    """What :func:`start` started: the reactor's loop and, once asked for, a Playwright driver."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.playwright: Any = None


_started: _Started | None = None


def _install_reactor():
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor

    return reactor


def start() -> None:
    """Install and start Scrapy's asyncio reactor without blocking, for a process that runs many
    coroutines one after another: each :func:`run` then runs on the reactor's loop, with no
    signal handling of its own. Call it before anything imports ``twisted.internet.reactor``;
    calling it again does nothing."""
    global _started
    if _started is not None:
        return
    reactor = _install_reactor()
    loop = asyncio.get_event_loop()
    reactor.startRunning(installSignalHandlers=False)
    _started = _Started(loop)


def stop() -> None:
    """Stop what :func:`start` started: the shared Playwright driver, then the reactor (its
    shutdown triggers run, so its thread pool ends)."""
    global _started
    if _started is None:
        return
    started, _started = _started, None
    from twisted.internet import reactor

    asyncio.set_event_loop(started.loop)
    if started.playwright is not None:
        try:
            started.loop.run_until_complete(asyncio.wait_for(started.playwright.stop(), timeout=30))
        except Exception:  # a driver that died or hangs must not keep the reactor (and its threads) alive
            pass
    reactor.stop()
    started.loop.run_forever()  # until the reactor's shutdown stops the loop


async def shared_playwright():
    """The Playwright driver shared by the runs of a process that called :func:`start` (started
    on first use), or ``None`` in a process that runs once."""
    if _started is None:
        return None
    if _started.playwright is None:
        from playwright.async_api import async_playwright

        _started.playwright = await async_playwright().start()
    return _started.playwright


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` to completion on the asyncio reactor and return its result.

    The first SIGINT/SIGTERM cancels ``main``'s task (so it can save its state and mark the
    run incomplete); a second one stops at once. After :func:`start`, ``main()`` simply runs on
    the started reactor's loop.
    """
    if _started is not None:
        # the loop must stay the reactor's: code that ran in between may have set another
        asyncio.set_event_loop(_started.loop)
        return _started.loop.run_until_complete(main())
    reactor = _install_reactor()
    from twisted.internet import defer

    outcome: dict[str, Any] = {}

    def _start() -> None:
        loop = asyncio.get_event_loop()
        task = asyncio.ensure_future(main())
        outcome["task"] = task

        def _on_signal() -> None:
            if outcome.get("interrupted"):
                reactor.stop()
                return
            outcome["interrupted"] = True
            task.cancel()

        # A plain handler that wakes the loop through call_soon_threadsafe: asyncio's own
        # add_signal_handler relies on signal.set_wakeup_fd, which other libraries in this
        # process (the reactor, subprocess watchers) may take over, silently losing Ctrl-C.
        def _handler(signum, frame) -> None:
            loop.call_soon_threadsafe(_on_signal)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _handler)
        d = defer.Deferred.fromFuture(task)
        d.addBoth(_done)

    def _done(result: Any) -> None:
        outcome["result"] = result
        if reactor.running:
            reactor.stop()

    reactor.callWhenRunning(_start)
    reactor.run(installSignalHandlers=False)
    if "result" not in outcome:
        raise Interrupted("stopped")
    result = outcome["result"]
    from twisted.python.failure import Failure

    if isinstance(result, Failure):
        exc = result.value
        if isinstance(exc, (asyncio.CancelledError, defer.CancelledError)) and outcome.get("interrupted"):
            raise Interrupted("interrupted")
        raise exc
    return result
