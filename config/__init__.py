"""Configuration files a user copies and edits (shipped as package data so installs find them)."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """Return the path of a bundled configuration file, e.g. ``path("demo-sites.toml")``."""
    return CONFIG_DIR / name
