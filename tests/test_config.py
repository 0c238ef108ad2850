"""Configuration: precedence, errors that name the source and key, the example file in step."""

import pytest

from audits.config import AuditConfig, example_toml, load_config
from audits.errors import ConfigError
from config import path


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
    text = path("a11ycrawl.example.toml").read_text()
    assert text == example_toml(), "regenerate: python -c 'from audits.config import example_toml; print(example_toml(), end=\"\")' > config/a11ycrawl.example.toml"
    for name in AuditConfig.model_fields:
        assert name in text
