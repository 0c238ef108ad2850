"""Running async work under Scrapy's asyncio reactor, with Ctrl-C handled gracefully.

Scrapy and Playwright share one asyncio event loop: Twisted's AsyncioSelectorReactor drives
it, Scrapy's AsyncCrawlerRunner crawls on it and Playwright's async API renders on it.
The reactor can run once per process, so the CLI calls :func:`run` once per command.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Awaitable, Callable, TypeVar

T = TypeVar("T")


class Interrupted(Exception):
    """Raised inside the main coroutine's caller when the user pressed Ctrl-C (or SIGTERM)."""


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` to completion on the asyncio reactor and return its result.

    The first SIGINT/SIGTERM cancels ``main``'s task (so it can save its state and mark the
    run incomplete); a second one stops at once.
    """
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import defer, reactor

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
