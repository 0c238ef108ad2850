"""Configuration: precedence, errors that name the source and key, the example file in step."""

import pytest

from audits.config import DEFAULT_TAGS, AuditConfig, example_toml, load_config, read_toml
from audits.errors import ConfigError
from config import path


def config_error(tmp_path, flags=None, environ=None, **kw) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(flags or {}, cwd=tmp_path, environ=environ or {}, **kw)
    return str(err.value)


def test_precedence_defaults_file_env_flags(tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text("max_pages = 7\nmax_depth = 3\nconcurrency = 3\n")
    cfg = load_config({"start_url": "https://x.example/", "concurrency": 4}, cwd=tmp_path,
                      environ={"A11YCRAWL_MAX_DEPTH": "5", "A11YCRAWL_TAGS": "wcag2a, wcag2aa"})
    assert (cfg.max_pages, cfg.max_depth, cfg.concurrency) == (7, 5, 4)
    assert cfg.tags == ["wcag2a", "wcag2aa"]
    assert load_config({}, cwd=tmp_path, environ={}).page_timeout == AuditConfig().page_timeout


def test_pyproject_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.a11ycrawl]\nmax_pages = 9\n")
    assert load_config({}, cwd=tmp_path, environ={}).max_pages == 9


@pytest.mark.parametrize("text, words", [
    ("max_pages = 0\n", ["max_pages", "greater than"]),
    ("colour = 'red'\n", ["colour", "unknown key"]),
    ("concurrency = 'x'\n", ["concurrency"]),
])
def test_errors_name_file_and_key(tmp_path, text, words):
    (tmp_path / "a11ycrawl.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config({}, cwd=tmp_path, environ={})
    assert "a11ycrawl.toml" in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_config_hash_ignores_paths_and_speed_but_not_results(tmp_path):
    a = load_config({"start_url": "https://x.example/"}, cwd=tmp_path, environ={})
    b = load_config({"start_url": "https://x.example/", "db": "other.db", "concurrency": 4}, cwd=tmp_path, environ={})
    c = load_config({"start_url": "https://x.example/", "tags": ["wcag2a"]}, cwd=tmp_path, environ={})
    assert a.config_hash() == b.config_hash() != c.config_hash()


def test_example_file_lists_every_key_and_is_valid():
    example = path("a11ycrawl.example.toml")
    text = example.read_text()
    assert text == example_toml(), "regenerate: python -c 'from audits.config import example_toml; print(example_toml(), end=\"\")' > config/a11ycrawl.example.toml"
    for name in AuditConfig.model_fields:
        assert name in text
    # it parses, through the same path as --config FILE, to exactly the defaults ...
    cfg = load_config({}, config_file=example, environ={})
    assert cfg == AuditConfig()
    assert (cfg.max_pages, cfg.tags, cfg.viewport, cfg.obey_robots) == (500, DEFAULT_TAGS, (1280, 800), True)
    # ... and every key with a default is set in it (not only mentioned in a comment)
    set_keys = set(read_toml(example))
    assert set_keys == {n for n, f in AuditConfig.model_fields.items() if f.get_default(call_default_factory=True) is not None}


def test_each_layer_overrides_the_one_below(tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text("max_pages = 7\nmax_depth = 3\nconcurrency = 3\nobey_robots = false\n")
    env = {"A11YCRAWL_MAX_DEPTH": "5", "A11YCRAWL_CONCURRENCY": "5", "A11YCRAWL_OBEY_ROBOTS": "true"}
    cfg = load_config({"concurrency": 6}, cwd=tmp_path, environ=env, site_overrides={"max_pages": 8, "max_depth": 4})
    assert (cfg.max_pages, cfg.max_depth, cfg.concurrency, cfg.obey_robots) == (8, 5, 6, True)
    # None and empty flags are "not given"; an empty variable counts as unset
    cfg = load_config({"concurrency": None, "tags": []}, cwd=tmp_path, environ={"A11YCRAWL_MAX_PAGES": ""})
    assert (cfg.max_pages, cfg.concurrency, cfg.tags) == (7, 3, DEFAULT_TAGS)


@pytest.mark.parametrize("value, expected", [("false", False), ("0", False), ("no", False), ("TRUE", True), ("1", True)])
def test_env_booleans(tmp_path, value, expected):
    assert load_config({}, cwd=tmp_path, environ={"A11YCRAWL_OBEY_ROBOTS": value}).obey_robots is expected


@pytest.mark.parametrize("value", ["flase", "ture", "2", "enabled"])
def test_env_boolean_typo_is_an_error_naming_the_variable(tmp_path, value):
    msg = config_error(tmp_path, environ={"A11YCRAWL_OBEY_ROBOTS": value})
    assert "A11YCRAWL_OBEY_ROBOTS" in msg and "true or false" in msg and repr(value) in msg


@pytest.mark.parametrize("value, viewport", [("1280,800", (1280, 800)), (" 1024 , 700 ", (1024, 700)), ("[800, 600]", (800, 600))])
def test_env_viewport(tmp_path, value, viewport):
    assert load_config({}, cwd=tmp_path, environ={"A11YCRAWL_VIEWPORT": value}).viewport == viewport


def test_env_lists_are_comma_separated_or_json(tmp_path):
    cfg = load_config({}, cwd=tmp_path, environ={
        "A11YCRAWL_TAGS": "wcag2a,wcag2aa", "A11YCRAWL_DISABLE_RULES": "region, color-contrast,",
        "A11YCRAWL_URLS": "https://x.example/a,https://x.example/b",
        "A11YCRAWL_EXCLUDE": '["/page/[0-9]{2,}", "/search"]',  # a regex with a comma: JSON
    })
    assert cfg.tags == ["wcag2a", "wcag2aa"]
    assert cfg.disable_rules == ["region", "color-contrast"]
    assert cfg.urls == ["https://x.example/a", "https://x.example/b"]
    assert cfg.exclude == ["/page/[0-9]{2,}", "/search"]


def test_other_a11ycrawl_variables_keep_working_or_are_left_alone(tmp_path):
    cfg = load_config({}, cwd=tmp_path, environ={
        "A11YCRAWL_DB": "other.db", "A11YCRAWL_CHROMIUM": "/opt/chromium",
        "A11YCRAWL_UPDATE_GOLDEN": "1", "A11YCRAWL_SINK": "x", "A11YCRAWL_CHROMIUM_PATH": "/x",  # not near a key
    })
    assert (cfg.db, cfg.chromium) == ("other.db", "/opt/chromium")


@pytest.mark.parametrize("name, suggestion", [
    ("A11YCRAWL_MAX_PAGE", "A11YCRAWL_MAX_PAGES"),
    ("A11YCRAWL_OBEY_ROBOT", "A11YCRAWL_OBEY_ROBOTS"),
    ("A11YCRAWL_CONCURENCY", "A11YCRAWL_CONCURRENCY"),
    ("a11ycrawl_viewpoint", "A11YCRAWL_VIEWPORT"),
])
def test_env_typo_of_a_key_is_an_error_with_did_you_mean(tmp_path, name, suggestion):
    msg = config_error(tmp_path, environ={name: "3"})
    assert name.upper() in msg and f"did you mean {suggestion}?" in msg


@pytest.mark.parametrize("text, words", [
    ("max_pagez = 3\n", ["max_pagez", "did you mean 'max_pages'?"]),
    ("obey_robot = true\n", ["obey_robot", "did you mean 'obey_robots'?"]),
    ("[login]\nform_urll = 'https://x.example/'\n", ["login.form_urll", "did you mean 'form_url'?"]),
    ("colour = 'red'\n", ["colour", "unknown key; known keys: allowed_hosts,"]),
])
def test_unknown_file_key_did_you_mean(tmp_path, text, words):
    (tmp_path / "a11ycrawl.toml").write_text(text)
    msg = config_error(tmp_path)
    for w in words:
        assert w in msg


def test_several_bad_keys_are_reported_together_each_with_its_source(tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text("max_pagez = 3\nconcurrency = 0\nviewport = [0, -5]\n[login]\nform_urll = 'x'\n")
    msg = config_error(tmp_path, flags={"user_agent": "a\nb"},
                       environ={"A11YCRAWL_OBEY_ROBOTS": "flase", "A11YCRAWL_MAX_DEPT": "2"})
    problems = msg.split("; ")
    file = f"config file {tmp_path / 'a11ycrawl.toml'}"
    for source, key in [(file, "max_pagez"), (file, "concurrency"), (file, "viewport"), (file, "login.form_urll"),
                        ("environment variable A11YCRAWL_OBEY_ROBOTS", "obey_robots"),
                        ("environment variable A11YCRAWL_MAX_DEPT", "max_dept"), ("command line", "user_agent")]:
        assert any(p.startswith(f"{source}: {key}: ") for p in problems), (source, key, msg)
    assert "\n" not in msg  # still one line


def test_pyproject_errors_name_the_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.a11ycrawl]\nmax_pages = 0\nsitemapz = false\n")
    msg = config_error(tmp_path)
    assert f"{tmp_path / 'pyproject.toml'} [tool.a11ycrawl]: max_pages:" in msg
    assert "sitemapz: unknown key; did you mean 'sitemaps'?" in msg


def test_site_list_entry_errors_name_the_entry(tmp_path):
    msg = config_error(tmp_path, site_overrides={"start_url": "https://x.example/", "max_pagse": 5},
                       site_source="site list sites.toml sites[2]")
    assert "site list sites.toml sites[2]: max_pagse: unknown key; did you mean 'max_pages'?" in msg


@pytest.mark.parametrize("viewport", [[0, -5], [0, 800], [1280, 10001], [1280], [1, 2, 3], "1280x800"])
def test_viewport_must_be_two_sane_sizes(tmp_path, viewport):
    msg = config_error(tmp_path, flags={"viewport": viewport})
    assert msg.startswith("command line: viewport: ") and "1280, 800" in msg


@pytest.mark.parametrize("viewport", [(1, 1), (10000, 10000), (375, 667)])
def test_viewport_limits_are_inclusive(tmp_path, viewport):
    assert load_config({"viewport": viewport}, cwd=tmp_path, environ={}).viewport == viewport


@pytest.mark.parametrize("ua", ["a11ycrawl\r\nX-Injected: 1", "bot\x00", "tab\there", "bell\x07", "del\x7f", "c1\x85", "  "])
def test_user_agent_must_be_printable_text(tmp_path, ua):
    msg = config_error(tmp_path, environ={"A11YCRAWL_USER_AGENT": ua})
    assert msg.startswith("environment variable A11YCRAWL_USER_AGENT: user_agent: ")
    assert "\n" not in msg and "\r" not in msg


def test_a_unicode_user_agent_is_fine(tmp_path):
    assert load_config({"user_agent": "a11ycrawl/0.1 (Conseil municipal de Québec)"}, cwd=tmp_path, environ={})


def test_urls_longer_than_2048_characters_are_config_errors(tmp_path):
    base = "https://x.example/"
    ok = base + "a" * (2048 - len(base))
    assert load_config({"start_url": ok, "urls": [ok]}, cwd=tmp_path, environ={}).start_url == ok
    long = ok + "b"
    msg = config_error(tmp_path, flags={"start_url": long})
    assert "start_url" in msg and "2049 characters" in msg and "2048" in msg
    assert repr(long[:80]) + "..." in msg and long[:81] not in msg  # only the first 80 characters shown
    (tmp_path / "a11ycrawl.toml").write_text(f'urls = ["{base}ok", "{long}", "ftp://x.example/"]\n')
    msg = config_error(tmp_path)
    assert "urls[1]: " in msg and "2049 characters" in msg and "urls[2]: 'ftp://x.example/' is not an http(s) URL" in msg
    assert len(msg) < 500


def test_url_list_file_that_is_not_utf8_is_a_config_error(cli, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_bytes(b"# key pages\nhttps://x.example/\nhttps://x.example/caf\xe9\n")
    res = cli("check", "--urls", str(urls), "--db", str(tmp_path / "a.db"), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "internal error" not in res.stderr
    assert f"--urls {urls}: line 3: byte 0xe9" in res.stderr and "UTF-8" in res.stderr
    urls.write_bytes(b"\xef\xbb\xbfhttps://x.example/\r\nftp://x.example/\r\n")  # a BOM and CRLF are fine
    res = cli("check", "--urls", str(urls), "--db", str(tmp_path / "a.db"), cwd=tmp_path)
    assert res.returncode == 2 and f"--urls {urls}: line 2: 'ftp://x.example/' is not an http(s) URL" in res.stderr
    urls.write_text("https://x.example/\nhttps://x.example/" + "a" * 3000 + "\n")
    res = cli("check", "--urls", str(urls), "--db", str(tmp_path / "a.db"), cwd=tmp_path)
    assert res.returncode == 2 and f"--urls {urls}: line 2: " in res.stderr and "3018 characters" in res.stderr
    assert len(res.stderr) < 400
