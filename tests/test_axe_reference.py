"""Our frame-by-frame axe run must report what axe-core itself reports on the same page, in the
same browser (the session's Chromium, launched as a11ycrawl launches it)."""

import pytest

from audits.config import DEFAULT_TAGS
from audits.engine.axe import axe_options, axe_source
from audits.engine.static_server import Reply
from helpers import load_json, run

pytestmark = pytest.mark.browser

OUTER = """<!doctype html><html lang="en"><head><title>Nested frames</title></head><body>
<main><h1>Frames</h1><img src="a.png"><a href="/"></a>
<iframe src="/inner.html" title="Inner"></iframe><iframe src="/inner2.html"></iframe></main></body></html>"""
INNER = """<!doctype html><html><head><title>Inner</title></head><body>
<input type="text"><p style="color:#aaa;background:#fff">low contrast</p>
<iframe src="/deep.html" title="Deep"></iframe></body></html>"""
INNER2 = """<!doctype html><html lang="en"><head><title>Inner 2</title></head><body><img src="b.png"></body></html>"""
DEEP = """<!doctype html><html lang="en"><head><title>Deep</title></head><body>
<button></button><select><option>x</option></select><div id="d"></div><div id="d"></div></body></html>"""


async def reference_results(browser, url):
    """axe.run in the top frame after injecting axe into every frame: axe's classic mode."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url, wait_until="load")
    for frame in page.frames:
        await frame.evaluate(axe_source())
    res = await page.evaluate("(opts) => axe.run(document, opts)", axe_options(DEFAULT_TAGS))
    await context.close()
    return {(v["id"], tuple(tuple(t) if isinstance(t, list) else t for t in n["target"]))
            for v in res["violations"] for n in v["nodes"]}


def test_matches_axe_classic_run(cli, serve, browser, tmp_path):
    server = serve({"/": Reply(body=OUTER), "/inner.html": Reply(body=INNER), "/inner2.html": Reply(body=INNER2),
                    "/deep.html": Reply(body=DEEP), "/robots.txt": Reply(404)})
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
              "--max-pages", "1", "--no-sitemaps", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    page = next(p for p in load_json(tmp_path / "r.json")["pages"] if p["status"] == "audited")
    ours = {(v["rule"], tuple(tuple(t) if isinstance(t, list) else t for t in n["target"]))
            for v in page["violations"] for n in v["nodes"]}
    ref = run(reference_results(browser, server.url))
    assert ours == ref
    # and it really did reach the nested frames
    assert any(len(t) == 3 for _, t in ours), ours
    assert page["frames"] == 4
