"""Site lists: many sites audited in turn (``a11ycrawl audit --all``), e.g. a league of councils.

A site list is TOML with ``[[sites]]`` tables; each takes any config key (``start_url``, ``name``,
``max_pages``, ``include``, ``exclude``, targets, ...) and overrides the shared settings for that site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audits.config import AuditConfig, find_config_file, load_config, read_toml
from audits.errors import ConfigError

SITE_ONLY_KEYS = ("baseline", "baseline_run", "targets", "key")


def read_site_entries(path: str | Path | None) -> tuple[Path, list[dict[str, Any]]]:
    if path is None:
        found = find_config_file()
        if not found or "sites" not in found[1]:
            raise ConfigError("no site list: pass --sites FILE (example: config/sites.example.toml) or add [[sites]] to a11ycrawl.toml")
        path, data = found
    else:
        path = Path(path)
        data = read_toml(path)
    sites = data.get("sites")
    if not isinstance(sites, list) or not sites:
        raise ConfigError(f"{path}: expected one or more [[sites]] tables")
    for i, s in enumerate(sites):
        if not isinstance(s, dict) or "start_url" not in s:
            raise ConfigError(f"{path}: sites[{i}]: start_url is required")
    return path, sites


def load_sites(path: str | Path | None, flags: dict[str, Any], config_file=None) -> list[AuditConfig]:
    path, entries = read_site_entries(path)
    out = []
    for i, entry in enumerate(entries):
        overrides = {k: v for k, v in entry.items() if k not in SITE_ONLY_KEYS}
        out.append(load_config(flags, config_file, site_overrides=overrides, site_source=f"site list {path} sites[{i}]"))
    return out
