"""a11ycrawl's library: audit sites into a store, and read, score and judge what was stored.

The command line (:mod:`reports.cli`) and the tests call what ``__all__`` lists::

    from audits import audit_sites, load_config, open_store, score_run

    store = open_store("a11ycrawl.db")
    [outcome] = audit_sites([load_config({"start_url": "https://www.example.gov.uk/"})], store)
    print(score_run(store, outcome.run_id).score)

Names are imported on first use, so ``import audits.errors`` stays cheap (no Scrapy, no
Playwright). Layers and data flow: README, "Architecture".
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_API = {
    # configuration and errors
    "AuditConfig": "audits.config", "LoginConfig": "audits.config", "load_config": "audits.config",
    "load_sites": "audits.sites",
    "A11yCrawlError": "audits.errors", "ConfigError": "audits.errors", "BrowserError": "audits.errors",
    "CrawlError": "audits.errors", "StoreError": "audits.errors",
    # running audits
    "audit_sites": "audits.engine.runner", "audit_sites_async": "audits.engine.runner",
    "RunOutcome": "audits.engine.pipeline", "Interrupted": "audits.engine.runtime",
    # the store
    "Store": "audits.store", "open_store": "audits.store", "PageRecord": "audits.store",
    # stored results, analysed
    "score_run": "audits.results", "score_stored_run": "audits.results", "rescore_all": "audits.results",
    "history": "audits.results", "league": "audits.results", "diff_runs": "audits.results",
    "check_stored_run": "audits.results", "run_findings": "audits.results", "baseline_from_run": "audits.results",
    # the demo
    "demo_sites": "audits.demo", "demo_configs": "audits.demo",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'audits' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors; at run time names load on first use
    from audits.config import AuditConfig, LoginConfig, load_config  # noqa: F401
    from audits.engine.runner import audit_sites, audit_sites_async  # noqa: F401
    from audits.results import score_run  # noqa: F401
    from audits.store import Store, open_store  # noqa: F401
