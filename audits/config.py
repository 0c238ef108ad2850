"""Typed configuration, parsed once at the edge.

Precedence (lowest first): built-in defaults < config file (``a11ycrawl.toml`` in the current
directory, or ``[tool.a11ycrawl]`` in ``pyproject.toml``, or ``--config FILE``) < a site-list entry
< environment variables ``A11YCRAWL_<KEY>`` < command-line flags. The layers are pydantic-settings
sources merged by :class:`AuditConfig` (a ``BaseSettings``) and validated once; every problem found
is reported together, each naming its source (file, ``[tool.a11ycrawl]`` table, environment
variable or command line), the key and the fix.

In the environment, list keys take comma-separated values (``A11YCRAWL_TAGS=wcag2a,wcag2aa``,
``A11YCRAWL_VIEWPORT=1280,800``) or a JSON array when an item itself holds a comma; an empty
variable counts as unset. An ``A11YCRAWL_*`` variable that is not a key but is a near-typo of one
(``A11YCRAWL_MAX_PAGE``) is an error with a did-you-mean, because ignoring it would silently audit
with other settings than meant; other ``A11YCRAWL_*`` names (other tools' variables) are ignored.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, InitSettingsSource, PydanticBaseSettingsSource
from pydantic_settings import SettingsConfigDict, SettingsError, TomlConfigSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from audits.errors import ConfigError
from crawler.urls import MAX_URL_LENGTH, Scope, is_http_url

# WCAG 2.0, 2.1 and 2.2, levels A and AA, as axe-core tags them (WCAG 2.2 added no Level A rule
# to axe-core, so there is no "wcag22a" tag).
DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ENV_PREFIX = "A11YCRAWL_"
#: Largest viewport side accepted, in CSS pixels (Chromium's own limit is far above any screen).
MAX_VIEWPORT = 10000
#: Tables of a config file that are not settings (read by the site list and the gate).
NON_SETTING_KEYS = ("sites", "ignore")
#: How close (difflib ratio) an unknown ``A11YCRAWL_*`` name must be to a key to count as its typo.
ENV_TYPO_CUTOFF = 0.8
#: At most this many problems are listed in one error.
MAX_PROBLEMS = 10


def endpoint_label(endpoint: str) -> str:
    """A browser server address as it may be shown and stored: no user, password or query string
    (where services put access tokens)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path or '/'}"


def shorten(text: str, limit: int = 80) -> str:
    """``repr`` of at most ``limit`` characters of ``text``, with an ellipsis when cut."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def validate_url(url: str) -> str:
    """Return ``url`` stripped if it is an http(s) URL a browser can load, else raise ValueError
    with a message that shows at most 80 characters of it."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"{shorten(url)} is {len(url)} characters long, over the {MAX_URL_LENGTH}-character "
                         "limit for a URL; use a shorter URL")
    if not is_http_url(url):
        raise ValueError(f"{shorten(url)} is not an http(s) URL with a host (example: https://www.example.gov.uk/)")
    try:
        urlsplit(url).port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError(f"{shorten(url)} has an invalid port") from None
    return url


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


class AuditConfig(BaseSettings):
    """Everything one audit of one site needs. Field names are the TOML keys; ``A11YCRAWL_<KEY>``
    names them in the environment.

    ``AuditConfig(**values)`` takes only ``values`` (no environment, no file): the layers are read
    by :func:`load_config`, which names the source of every bad value.
    """

    model_config = SettingsConfigDict(extra="forbid", validate_assignment=True, env_prefix=ENV_PREFIX,
                                      env_ignore_empty=True)

    start_url: str | None = None
    name: str | None = Field(None, description="Site name in history and league tables; default: the host")
    db: str = "a11ycrawl.db"
    # discovery
    max_pages: int = Field(500, ge=1)
    max_depth: int = Field(10, ge=0)
    max_time: float = Field(0, ge=0, description="seconds for the whole run; 0 = no limit")
    allowed_hosts: list[str] = Field(default_factory=list)
    include_subdomains: bool = False
    scope: Literal["path", "host"] = Field(
        "path", description='"path": stay in the start URL\'s directory (https://host/before/home.html -> /before/ and below), as wget --no-parent; "host": the whole host')
    include: list[str] = Field(default_factory=list, description="regexes; a URL must match one")
    exclude: list[str] = Field(default_factory=list, description="regexes; a URL matching one is skipped")
    urls: list[Annotated[str, AfterValidator(validate_url)]] = Field(
        default_factory=list, description="more URLs to audit besides start_url (a URL list)")
    sitemap_urls: list[Annotated[str, AfterValidator(validate_url)]] = Field(
        default_factory=list, description="sitemaps whose URLs to audit")
    follow_links: bool = Field(True, description="crawl links; false audits only start_url, urls and sitemaps")
    per_pattern_cap: int = Field(50, ge=1, description="max pages per URL template (digits and query values folded)")
    query_variants_cap: int = Field(10, ge=1, description="max distinct query strings per path")
    obey_robots: bool = True
    sitemaps: bool = True
    user_agent: str = Field("a11ycrawl/0.1 (+https://github.com/a11ycrawl/a11ycrawl; accessibility audit)",
                            description="User-Agent header of the crawler and the browser (no control characters)")
    crawl_concurrency: int = Field(4, ge=1, description="concurrent HTTP requests per host")
    crawl_delay: float = Field(0.0, ge=0)
    autothrottle: bool = True
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_documents: int = Field(50, ge=0, description="linked PDFs fetched and checked per run; 0 = list them only")
    max_document_bytes: int = Field(20 * 1024 * 1024, ge=1024,
                                    description="a larger PDF is not downloaded (recorded with the reason)")
    # browser and axe
    chromium: str | None = Field(None, description="path to Chromium; else $A11YCRAWL_CHROMIUM, then usual paths")
    concurrency: int = Field(2, ge=1, le=16, description="browser pages audited at once")
    browser_endpoints: list[str] = Field(
        default_factory=list, description="Playwright browser servers (ws://HOST:PORT/PATH); pages are spread over them")
    remote_network_fenced: bool = Field(
        False, description="the browser servers' network already blocks private addresses (needed for a public start URL)")
    webdriver: str | None = Field(
        None, description="Selenium Grid 4 to audit in (http://HOST:4444): one WebDriver session per concurrent page")
    egress_host: str = Field(
        "127.0.0.1", description="address of this machine the address fence's proxy listens on; with webdriver on "
                                 "other machines, one the Grid's nodes can reach (keep it off the internet)")
    page_timeout: float = Field(30.0, gt=0, description="seconds per page: navigation + settle + axe")
    axe_ms_per_element: float = Field(10.0, ge=0, description="a large page's axe run gets this many ms per element, when that is more than page_timeout leaves")
    axe_timeout_max: float = Field(300.0, gt=0, description="however large the page, axe is stopped after this many seconds")
    frame_timeout: float = Field(10.0, gt=0, description="seconds each frame has to answer axe (more for a large one); a frame that cannot is listed as unaudited and the rest of the page stands")
    settle_quiet_ms: int = Field(50, ge=0, description="after load, wait until the page's fetch/XHR, inserted scripts, timers and animation frames are done and the DOM has not changed for this long")
    settle_cap_ms: int = Field(3000, ge=0, description="never wait longer than this for the page to settle (a page still busy then is audited as it is and marked unsettled); 0 = do not wait")
    js_heap_mb: int = Field(2048, ge=64, description="V8 heap limit per renderer; a page over it crashes alone")
    recycle_after: int = Field(100, ge=1, description="pages per browser context before it is replaced")
    tags: list[str] = Field(default_factory=lambda: list(DEFAULT_TAGS))
    disable_rules: list[str] = Field(default_factory=list)
    viewport: tuple[int, int] = Field((1280, 800), description=f"browser window [width, height] in CSS pixels, 1-{MAX_VIEWPORT} each")
    login: LoginConfig | None = None
    output: Literal["rich", "plain"] = "rich"
    full: bool = Field(False, description="render every page, even those unchanged since the last run")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        # Direct construction is plain validation of the given values; load_config() passes its
        # own layers (file, site entry, environment, flags) with _build_sources.
        return (init_settings,)

    @field_validator("start_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        return None if v is None else validate_url(v)

    @field_validator("user_agent")
    @classmethod
    def _check_user_agent(cls, v: str) -> str:
        bad = sorted({c for c in v if unicodedata.category(c) == "Cc"})
        if bad:
            codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
            raise ValueError(f"{shorten(v)} contains control characters ({codes}); an HTTP header value must be "
                             "one line of printable text")
        if not v.strip():
            raise ValueError("is empty; give a User-Agent string or leave the key out for the default")
        return v

    @field_validator("viewport", mode="before")
    @classmethod
    def _check_viewport_shape(cls, v: Any) -> Any:
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise ValueError(f"must be [width, height] in CSS pixels, e.g. [1280, 800] (in the environment "
                             f"{ENV_PREFIX}VIEWPORT=1280,800), not {shorten(str(v))}")
        return v

    @field_validator("viewport")
    @classmethod
    def _check_viewport_size(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not all(1 <= side <= MAX_VIEWPORT for side in v):
            raise ValueError(f"[{v[0]}, {v[1]}]: width and height must each be between 1 and {MAX_VIEWPORT} "
                             "CSS pixels, e.g. [1280, 800]")
        return v

    @field_serializer("browser_endpoints")
    def _stored_endpoints(self, v: list[str]) -> list[str]:
        # the run's stored config and JSON keep where the browsers were, never their tokens
        return [endpoint_label(e) for e in v]

    @field_validator("browser_endpoints")
    @classmethod
    def _check_endpoints(cls, v: list[str]) -> list[str]:
        for endpoint in v:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("ws", "wss") or not parts.hostname:
                raise ValueError(f"{shorten(endpoint)} is not a browser server address; give "
                                 "ws://HOST:PORT/ as 'playwright run-server' prints it")
        return v

    @field_serializer("webdriver")
    def _stored_webdriver(self, v: str | None) -> str | None:
        return None if v is None else endpoint_label(v)

    @field_validator("webdriver")
    @classmethod
    def _check_webdriver(cls, v: str | None) -> str | None:
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{shorten(v)} is not a Selenium Grid address; give http://HOST:4444 (the Grid's router or hub)")
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
        return self.name or (urlsplit(self.start_url or "").netloc or "site")

    def public_dict(self) -> dict[str, Any]:
        """The configuration as stored with a run (secrets are env var *names*, never values)."""
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """Hash of the settings that change results (not paths or display options)."""
        d = self.public_dict()
        for k in ("db", "output", "chromium", "name", "concurrency", "crawl_concurrency", "crawl_delay", "full",
                  "max_time", "recycle_after", "js_heap_mb", "browser_endpoints", "remote_network_fenced",
                  "webdriver", "egress_host"):
            d.pop(k, None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def run_scope(config: Mapping[str, Any] | None, start_url: str) -> dict[str, Any]:
    """The scope a run had, from its stored configuration, as the JSON and the summary show it:
    ``mode`` (``path`` when the start URL's directory limited the crawl, else ``host``), ``roots``
    (``https://host/before/`` for a directory, ``https://host/`` for a whole host, ``*.host`` for
    its subdomains), the ``include``/``exclude`` patterns, and ``text``, one line for people.

    Runs stored before the ``scope`` key existed crawled whole hosts."""
    config = config or {}
    try:
        scope = Scope.for_start_url(
            start_url, config.get("allowed_hosts") or (), bool(config.get("include_subdomains")),
            config.get("include") or (), config.get("exclude") or (), allow_private=True,
            mode=config.get("scope") or "host", seeds=config.get("urls") or ())
    except (ValueError, re.error):
        return {"mode": config.get("scope") or "host", "roots": [], "include": [], "exclude": [], "text": ""}
    scheme = urlsplit(start_url).scheme or "https"
    roots = [r if r.startswith("*.") else f"{scheme}://{r if '/' in r else r + '/'}" for r in scope.roots()]
    limited = {h for h, _ in scope.directories}
    parts = []
    for r in roots:
        host = urlsplit(r).netloc if "://" in r else r
        if r.startswith("*."):
            parts.append(f"{r} (subdomains)")
        elif host in limited:
            parts.append(f"{r} and below")
        else:
            parts.append(f"{r} (the whole host)")
    text = "; ".join(parts)
    if scope.include:
        text += f"; only URLs matching {' or '.join(scope.include)}"
    if scope.exclude:
        text += f"; none matching {' or '.join(scope.exclude)}"
    if limited:
        text += " (use --scope host for the whole host)"
    return {"mode": scope.mode, "roots": roots, "include": list(scope.include), "exclude": list(scope.exclude),
            "text": text}


def find_config_file(cwd: Path | None = None) -> tuple[Path, dict] | None:
    """Locate ``a11ycrawl.toml`` or ``[tool.a11ycrawl]`` in ``pyproject.toml`` in ``cwd``; return
    its path and its (a11ycrawl) table, ``sites`` and ``ignore`` included."""
    cwd = cwd or Path.cwd()
    own = cwd / "a11ycrawl.toml"
    if own.is_file():
        return own, read_toml(own)
    pp = cwd / "pyproject.toml"
    if pp.is_file():
        data = _tool_table(read_toml(pp))
        if data:
            return pp, data
    return None


def read_toml(path: str | Path, what: str = "config file") -> dict:
    """Parse a TOML file; every failure is a :class:`ConfigError` naming the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                          f"{exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None


def _tool_table(pyproject: dict) -> dict:
    tool = pyproject.get("tool")
    table = tool.get("a11ycrawl") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else {}


# -- the layers, as pydantic-settings sources ---------------------------------------------------

class ConfigFileSource(TomlConfigSettingsSource):
    """``a11ycrawl.toml`` (or ``--config FILE``), or the ``[tool.a11ycrawl]`` table of a
    ``pyproject.toml``; the ``sites`` and ``ignore`` tables are left to the site list and the gate."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        self.path = path
        self.is_pyproject = path.name == "pyproject.toml"
        if not path.exists():  # the base class would skip it silently
            raise ConfigError(f"config file {path} does not exist")
        if not path.is_file():
            raise ConfigError(f"config file {path} is not a file")
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, path: Path) -> dict[str, Any]:
        data = read_toml(path)
        if self.is_pyproject:
            data = _tool_table(data)
        return {k: v for k, v in data.items() if k not in NON_SETTING_KEYS}

    def label(self, key: str) -> str:
        return f"{self.path} [tool.a11ycrawl]" if self.is_pyproject else f"config file {self.path}"


class EnvironmentSource(EnvSettingsSource):
    """``A11YCRAWL_<KEY>`` variables of ``environ``: lists comma-separated (or a JSON array), and
    near-typos of key names passed on as unknown keys so that they are reported."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self.environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self.environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        if _is_sequence(field.annotation) and not value.lstrip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value  # not JSON: validation reports it, naming the variable

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        prefix = self.env_prefix.lower()
        keys = list(self.settings_cls.model_fields)
        for name, value in self.env_vars.items():
            key = name.lower().removeprefix(prefix)
            if (name.lower().startswith(prefix) and key not in keys and value is not None
                    and difflib.get_close_matches(key, keys, n=1, cutoff=ENV_TYPO_CUTOFF)):
                data[key] = value
        return data

    def label(self, key: str) -> str:
        return f"environment variable {ENV_PREFIX}{key.upper()}"


class ValuesSource(InitSettingsSource):
    """Values given in code: a site-list entry, or the command line's flags."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any], source: str):
        self.source = source
        super().__init__(settings_cls, values)

    def label(self, key: str) -> str:
        return self.source


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, (list, tuple))


def load_config(
    flags: dict[str, Any] | None = None,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    site_overrides: dict[str, Any] | None = None,
    site_source: str = "site list entry",
) -> AuditConfig:
    """Merge defaults < file < ``site_overrides`` (a site-list entry, named ``site_source`` in
    errors) < environment < flags, validate once, and raise one :class:`ConfigError` listing every
    problem (source, key, fix).

    ``flags`` holds only the options the user actually gave (None and empty values are ignored).
    """
    layers: list[Any] = []  # lowest precedence first
    if config_file:
        layers.append(ConfigFileSource(AuditConfig, Path(config_file)))
    else:
        found = find_config_file(cwd)
        if found:
            layers.append(ConfigFileSource(AuditConfig, found[0]))
    if site_overrides:
        layers.append(ValuesSource(AuditConfig, dict(site_overrides), site_source))
    layers.append(EnvironmentSource(AuditConfig, os.environ if environ is None else environ))
    given = {k: v for k, v in (flags or {}).items() if v is not None and v != () and v != []}
    if given:
        layers.append(ValuesSource(AuditConfig, given, "command line"))
    try:
        return AuditConfig(_build_sources=(tuple(reversed(layers)), {}))
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc, layers)) from None
    except SettingsError as exc:  # a source could not read a value at all
        raise ConfigError(f"environment ({ENV_PREFIX}*): {exc}") from None


# -- error messages -----------------------------------------------------------------------------

_LIST = 'a list, e.g. ["a", "b"] (in the environment: a,b)'
_TABLE = "a table of keys (in the environment: a JSON object)"
#: What a value of the wrong type should have been, by pydantic error type.
_EXPECTED = {
    "bool_parsing": "true or false", "bool_type": "true or false",
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "float_parsing": "a number", "float_type": "a number",
    "string_type": "a quoted string",
    "list_type": _LIST, "tuple_type": _LIST,
    "model_type": _TABLE, "model_attributes_type": _TABLE, "dict_type": _TABLE,
}


def _describe_errors(exc: ValidationError, layers: list[Any]) -> str:
    """One line: every problem as ``SOURCE: KEY: what is wrong; the fix``, joined by '; '."""
    data = [(layer, layer()) for layer in reversed(layers)]  # highest precedence first
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        layer = _layer_for(loc, data)
        source = layer.label(str(loc[0])) if layer is not None else "configuration"
        problems.append(f"{source}: {_format_loc(loc)}: {_explain(err, env=isinstance(layer, EnvironmentSource))}")
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"and {len(problems) - MAX_PROBLEMS} more problems"]
    return "; ".join(problems)


def _layer_for(loc: tuple, data: list[tuple[Any, dict]]) -> Any:
    """The highest-precedence layer that supplied the value at ``loc`` (or its first key)."""
    def has(values: Any, path: tuple) -> bool:
        for part in path:
            if (isinstance(values, dict) and part in values) or (
                    isinstance(values, (list, tuple)) and isinstance(part, int) and part < len(values)):
                values = values[part]
            else:
                return False
        return True

    for path in (loc, loc[:1]):
        for layer, values in data:
            if has(values, path):
                return layer
    return None


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "?"


def _explain(err: dict, env: bool) -> str:
    kind, loc = err["type"], err["loc"]
    if kind == "extra_forbidden":
        return _unknown_key(loc, env)
    if kind == "value_error":  # our validators' messages quote (a shortened) value themselves
        return err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    got = ""
    if isinstance(value, (str, int, float, bool)):
        got = f", got {shorten(value) if isinstance(value, str) else repr(value)}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{got}"
    return err["msg"] + got


def _unknown_key(loc: tuple, env: bool) -> str:
    model: type[BaseModel] = AuditConfig
    for part in loc[:-1]:  # an unknown key inside [login]
        if part == "login":
            model = LoginConfig
    known = list(model.model_fields)
    key = str(loc[-1])
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6)
    if env and model is AuditConfig:
        return (f"not a setting; did you mean {ENV_PREFIX}{close[0].upper()}?" if close
                else "not a setting")
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys: {', '.join(sorted(known))}"


def example_toml() -> str:
    """Every config key with its default and meaning, as TOML (``config/a11ycrawl.example.toml``)."""
    lines = [
        "# a11ycrawl configuration: every key, with its default. Copy to ./a11ycrawl.toml (or put",
        "# the keys under [tool.a11ycrawl] in pyproject.toml) and keep only what you change.",
        "# Environment variables A11YCRAWL_<KEY> (lists comma-separated: A11YCRAWL_TAGS=wcag2a,wcag2aa,",
        "# A11YCRAWL_VIEWPORT=1280,800) and command-line flags override this file.",
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
