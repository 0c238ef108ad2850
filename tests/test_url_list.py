"""Auditing a fixed list of URLs or a sitemap's URLs, without following links (for CI checks)."""

import pytest

from helpers import load_json
from fixture_site import routes

pytestmark = pytest.mark.browser


def audited(path):
    return sorted(p["url"].split("/", 3)[3] for p in load_json(path)["pages"] if p["status"] == "audited")


def test_url_list_without_following_links(cli, serve, tmp_path):
    server = serve(routes())
    (tmp_path / "a11ycrawl.toml").write_text(
        f'follow_links = false\nsitemaps = false\nurls = ["{server.origin}/contact", "{server.origin}/about"]\n')
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"), "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert audited(tmp_path / "r.json") == ["", "about", "contact"]


def test_sitemap_urls_only(cli, serve, tmp_path):
    server = serve(routes())
    (tmp_path / "a11ycrawl.toml").write_text(f'follow_links = false\nsitemaps = false\nsitemap_urls = ["{server.origin}/sitemap.xml"]\n')
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"), "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert audited(tmp_path / "r.json") == ["", "sitemap-only"]
