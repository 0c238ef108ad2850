"""``a11ycrawl demo``: three fictional council sites served on 127.0.0.1, audited end to end.

The sites come from :mod:`audits.demo.councils`; the site list (names, budgets, baselines, targets)
from ``config/demo-sites.toml``, whose ``start_url`` placeholders are replaced, by ``key``, with
the addresses the sites are served on.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import config as bundled_config

from audits.config import AuditConfig, load_config
from audits.demo.councils import DEMO_KEYS, DemoSite, serve_demo_sites
from audits.errors import ConfigError
from audits.sites import SITE_ONLY_KEYS, read_site_entries

DEMO_SITES_FILE = bundled_config.path("demo-sites.toml")


def demo_configs(sites: list[DemoSite], flags: dict[str, Any], sites_file: str | Path = DEMO_SITES_FILE) -> list[AuditConfig]:
    """One config per served demo site, from the demo site list."""
    _, entries = read_site_entries(sites_file)
    by_key = {e.get("key"): e for e in entries}
    cfgs = []
    for site in sites:
        entry = by_key.get(site.key)
        if entry is None:
            raise ConfigError(f"{sites_file}: no [[sites]] entry with key = {site.key!r}")
        overrides = {k: v for k, v in entry.items() if k not in SITE_ONLY_KEYS}
        overrides["start_url"] = site.url
        overrides.setdefault("name", site.name)
        cfgs.append(load_config(flags, site_overrides=overrides))
    return cfgs


@contextmanager
def demo_sites(variant: str = "before", keys: tuple[str, ...] = DEMO_KEYS) -> Iterator[list[DemoSite]]:
    """Serve the demo councils on 127.0.0.1 for the duration of the block."""
    if variant not in ("before", "after"):
        raise ConfigError(f"--variant must be 'before' or 'after', not {variant!r}")
    with serve_demo_sites(keys, variant=variant) as sites:
        yield sites
