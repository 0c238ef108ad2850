"""Typed configuration, parsed once at the edge.

Precedence (lowest first): built-in defaults < config file (``a11ycrawl.toml`` in the current
directory, or ``[tool.a11ycrawl]`` in ``pyproject.toml``, or ``--config FILE``) < environment
variables ``A11YCRAWL_<FIELD>`` < command-line flags. Errors name the source, the key and the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from urllib.parse import urlsplit
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crawler.urls import is_http_url
from audits.errors import ConfigError

# WCAG 2.0, 2.1 and 2.2, levels A and AA, as axe-core tags them (WCAG 2.2 added no Level A rule
# to axe-core, so there is no "wcag22a" tag).
DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ENV_PREFIX = "A11YCRAWL_"


class LoginConfig(BaseModel):
    """How to sign in before auditing. Secrets are named environment variables, never values."""

    model_config = ConfigDict(extra="forbid")
    basic_user_env: str | None = None
    basic_password_env: str | None = None
    headers_env: dict[str, str] = Field(default_factory=dict, description="header name -> env var")
    cookies_env: dict[str, str] = Field(default_factory=dict, description="cookie name -> env var")
    form_url: str | None = None
    form_fields_env: dict[str, str] = Field(default_factory=dict, description="CSS selector -> env var")
    form_submit: str | None = None
    success_text: str | None = None


class AuditConfig(BaseModel):
    """Everything one audit of one site needs. Field names are the TOML keys."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    start_url: str | None = None
    name: str | None = Field(None, description="Site name in history and league tables; default: the host")
    db: str = "a11ycrawl.db"
    # discovery
    max_pages: int = Field(500, ge=1)
    max_depth: int = Field(10, ge=0)
    max_time: float = Field(0, ge=0, description="seconds for the whole run; 0 = no limit")
    allowed_hosts: list[str] = Field(default_factory=list)
    include_subdomains: bool = False
    include: list[str] = Field(default_factory=list, description="regexes; a URL must match one")
    exclude: list[str] = Field(default_factory=list, description="regexes; a URL matching one is skipped")
    urls: list[str] = Field(default_factory=list, description="more URLs to audit besides start_url (a URL list)")
    sitemap_urls: list[str] = Field(default_factory=list, description="sitemaps whose URLs to audit")
    follow_links: bool = Field(True, description="crawl links; false audits only start_url, urls and sitemaps")
    per_pattern_cap: int = Field(50, ge=1, description="max pages per URL template (digits and query values folded)")
    query_variants_cap: int = Field(10, ge=1, description="max distinct query strings per path")
    obey_robots: bool = True
    sitemaps: bool = True
    user_agent: str = "a11ycrawl/0.1 (+https://github.com/a11ycrawl/a11ycrawl; accessibility audit)"
    crawl_concurrency: int = Field(4, ge=1, description="concurrent HTTP requests per host")
    crawl_delay: float = Field(0.0, ge=0)
    autothrottle: bool = True
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # browser and axe
    chromium: str | None = Field(None, description="path to Chromium; else $A11YCRAWL_CHROMIUM, then usual paths")
    concurrency: int = Field(2, ge=1, le=16, description="browser pages audited at once")
    page_timeout: float = Field(30.0, gt=0, description="seconds per page: navigation + settle + axe")
    axe_ms_per_element: float = Field(10.0, ge=0, description="a large page's axe run gets this many ms per element, when that is more than page_timeout leaves")
    axe_timeout_max: float = Field(300.0, gt=0, description="however large the page, axe is stopped after this many seconds")
    frame_timeout: float = Field(10.0, gt=0, description="seconds each frame has to answer axe (more for a large one); a frame that cannot is listed as unaudited and the rest of the page stands")
    settle_quiet_ms: int = Field(50, ge=0, description="no DOM change and no fetch/XHR in flight this long before axe runs")
    settle_cap_ms: int = Field(3000, ge=0, description="never wait longer than this for the page to settle")
    js_heap_mb: int = Field(2048, ge=64, description="V8 heap limit per renderer; a page over it crashes alone")
    recycle_after: int = Field(100, ge=1, description="pages per browser context before it is replaced")
    tags: list[str] = Field(default_factory=lambda: list(DEFAULT_TAGS))
    disable_rules: list[str] = Field(default_factory=list)
    viewport: tuple[int, int] = (1280, 800)
    login: LoginConfig | None = None
    output: Literal["rich", "plain"] = "rich"
    full: bool = Field(False, description="render every page, even those unchanged since the last run")

    @field_validator("start_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip()
        if not is_http_url(v):
            raise ValueError(f"{v!r} is not an http(s) URL with a host (example: https://www.example.gov.uk/)")
        try:
            urlsplit(v).port
        except ValueError:
            raise ValueError(f"{v!r} has an invalid port") from None
        return v

    @field_validator("include", "exclude")
    @classmethod
    def _check_patterns(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from None
        return v

    def site_name(self) -> str:
        from urllib.parse import urlsplit

        return self.name or (urlsplit(self.start_url or "").netloc or "site")

    def public_dict(self) -> dict[str, Any]:
        """The configuration as stored with a run (secrets are env var *names*, never values)."""
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """Hash of the settings that change results (not paths or display options)."""
        d = self.public_dict()
        for k in ("db", "output", "chromium", "name", "concurrency", "crawl_concurrency", "crawl_delay", "full",
                  "max_time", "recycle_after", "js_heap_mb"):
            d.pop(k, None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def _fields() -> dict[str, Any]:
    return AuditConfig.model_fields


def find_config_file(cwd: Path | None = None) -> tuple[Path, dict] | None:
    """Locate ``a11ycrawl.toml`` or ``[tool.a11ycrawl]`` in ``pyproject.toml`` in ``cwd``."""
    cwd = cwd or Path.cwd()
    own = cwd / "a11ycrawl.toml"
    if own.is_file():
        return own, _read_toml(own)
    pp = cwd / "pyproject.toml"
    if pp.is_file():
        data = _read_toml(pp).get("tool", {}).get("a11ycrawl")
        if data:
            return pp, data
    return None


def _read_toml(path: Path, what: str = "config file") -> dict:
    """Parse a TOML file; every failure is a :class:`ConfigError` naming the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None


def _env_values(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in _fields().items():
        key = ENV_PREFIX + name.upper()
        if key in environ:
            raw = environ[key]
            ann = str(field.annotation)
            if "list" in ann:
                out[name] = [x.strip() for x in raw.split(",") if x.strip()]
            elif "bool" in ann:
                out[name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                out[name] = raw
    return out


def _validate(data: dict[str, Any], source: str) -> AuditConfig:
    try:
        return AuditConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key; known keys: {', '.join(sorted(_fields()))}"
        raise ConfigError(f"{source}: {key}: {msg}") from None


def load_config(
    flags: dict[str, Any] | None = None,
    config_file: str | Path | None = None,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
    site_overrides: dict[str, Any] | None = None,
) -> AuditConfig:
    """Merge defaults < file < ``site_overrides`` (a site-list entry) < environment < flags.

    ``flags`` holds only the options the user actually gave (None values are ignored).
    """
    environ = dict(os.environ if environ is None else environ)
    merged: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        data = _read_toml(path)
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("a11ycrawl", {})
        data = {k: v for k, v in data.items() if k not in ("sites", "ignore")}
        _validate(data, f"config file {path}")
        merged.update(data)
    else:
        found = find_config_file(cwd)
        if found:
            path, data = found
            data = {k: v for k, v in data.items() if k not in ("sites", "ignore")}
            _validate(data, f"config file {path}")
            merged.update(data)
    if site_overrides:
        merged.update(site_overrides)
    env = _env_values(environ)
    if env:
        _validate({**merged, **env}, "environment (A11YCRAWL_*)")
        merged.update(env)
    if flags:
        merged.update({k: v for k, v in flags.items() if v is not None and v != () and v != []})
        return _validate(merged, "command line")
    return _validate(merged, "configuration")


def example_toml() -> str:
    """Every config key with its default and meaning, as TOML (``config/a11ycrawl.example.toml``)."""
    lines = [
        "# a11ycrawl configuration: every key, with its default. Copy to ./a11ycrawl.toml (or put",
        "# the keys under [tool.a11ycrawl] in pyproject.toml) and keep only what you change.",
        "# Environment variables A11YCRAWL_<KEY> and command-line flags override this file.",
        "",
    ]
    for name, field in AuditConfig.model_fields.items():
        if name == "login":
            continue
        default = field.get_default(call_default_factory=True)
        if field.description:
            lines.append(f"# {field.description}")
        if default is None:
            lines.append(f"# {name} = ")
        else:
            lines.append(f"{name} = {_toml_value(default)}")
    lines += [
        "",
        "# Signed-in audits: values are environment variable NAMES, never secrets.",
        "# [login]",
        '# basic_user_env = "COUNCIL_USER"',
        '# basic_password_env = "COUNCIL_PASS"',
        '# headers_env = { "X-Api-Token" = "COUNCIL_TOKEN" }',
        '# cookies_env = { "session" = "COUNCIL_SESSION" }',
        '# form_url = "https://www.example.gov.uk/sign-in"',
        '# form_fields_env = { "#email" = "COUNCIL_USER", "#password" = "COUNCIL_PASS" }',
        '# form_submit = "button[type=submit]"',
        '# success_text = "Signed in as"',
    ]
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)
