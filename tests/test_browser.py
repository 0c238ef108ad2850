"""Finding Chromium and the flags it is launched with."""

from __future__ import annotations

import os
import stat

import pytest

from audits.engine import browser as browser_mod
from audits.engine.browser import GC_FUNCTION, find_chromium, launch_args, launch_browser
from audits.errors import BrowserError
from helpers import run


def _exe(path):
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_lookup_order_config_then_env_then_headless_shell_first(tmp_path, monkeypatch):
    shell, desktop = _exe(tmp_path / "chromium-headless-shell"), _exe(tmp_path / "chromium")
    configured, env = _exe(tmp_path / "configured"), _exe(tmp_path / "from-env")
    monkeypatch.setattr(browser_mod, "CANDIDATE_PATHS", (shell, desktop))
    assert find_chromium(configured, {"A11YCRAWL_CHROMIUM": env}) == configured
    assert find_chromium(None, {"A11YCRAWL_CHROMIUM": env}) == env
    assert find_chromium(None, {}) == shell
    os.remove(shell)
    assert find_chromium(None, {}) == desktop


def test_headless_shell_is_preferred_among_the_usual_paths():
    paths = browser_mod.CANDIDATE_PATHS
    assert paths.index("/usr/lib/chromium/chromium-headless-shell") < paths.index("/usr/bin/chromium")
    assert browser_mod.CANDIDATE_NAMES[0] == "chromium-headless-shell"


def test_bad_configured_path_says_what_to_do(tmp_path):
    with pytest.raises(BrowserError) as exc:
        find_chromium(str(tmp_path / "missing"), {})
    assert "apt-get install -y chromium-headless-shell" in str(exc.value)


def test_one_js_flags_switch_with_gc_and_heap_limit():
    args = launch_args(512)
    js = [a for a in args if a.startswith("--js-flags=")]
    assert len(js) == 1  # Chromium keeps only the last --js-flags
    assert f"--expose-gc-as={GC_FUNCTION}" in js[0] and "--max-old-space-size=512" in js[0]
    assert "--in-process-gpu" in args and "--disable-gpu" in args
    assert "--no-sandbox" in args and "--no-zygote" in args  # the zygote only serves the sandbox


@pytest.mark.browser
def test_the_launched_browser_exposes_gc_to_our_script_and_runs_pages(playwright):
    async def check():
        b = await launch_browser(playwright, find_chromium(), js_heap_mb=256)
        try:
            page = await b.new_page()
            await page.set_content("<main><h1>Bins</h1></main>")
            assert await page.evaluate(f"typeof globalThis.{GC_FUNCTION}") == "function"
            await page.evaluate(f"globalThis.{GC_FUNCTION}()")  # a full collection, no error
            assert await page.evaluate("document.querySelector('h1').textContent") == "Bins"
        finally:
            await b.close()

    run(check())
