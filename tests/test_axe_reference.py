"""Our frame-by-frame axe run must report what axe-core itself reports on the same page.

The reference is plain ``axe.run(document)`` in axe's classic mode, in the same Chromium, with the
same axe source (:func:`audits.engine.axe.axe_source`) and the same options, once the page has
settled. Like with like:

- axe is put in every document the way a11ycrawl does (an init script), and configured with
  ``allowedOrigins: ['<unsafe_all_origins>']``: by default axe.run only talks to frames of its
  own origin, and would leave out the cross-origin and opaque-origin (``sandbox="allow-scripts"``)
  frames that a11ycrawl's ``runPartial`` in each frame does audit. So configured, axe.run reaches
  every frame that can run a script. A frame sandboxed without ``allow-scripts`` cannot: axe.run
  gets no answer to its ping there (its ``pingWaitTime``) and leaves the frame out, exactly as
  a11ycrawl does (``null`` to ``finishRun``, the frame listed in ``frames_unaudited``).
- A frame from outside the audit's hosts (a chat widget, a map) is loaded and audited as part of
  the page, as the reference browser does; the crawler never requests anything else there.
- A refresh at once (0 s) is a redirect: a11ycrawl records the URL as a duplicate and audits the
  page it leads to, which is where the reference browser ends up. A refresh after a delay is a
  page: a11ycrawl stops the refresh; the reference runs axe long before the delay is over.
"""

import pytest
from playwright.sync_api import sync_playwright

from audits.engine.axe import axe_options, axe_source
from audits.engine.browser import find_chromium, launch_args
from audits.config import DEFAULT_TAGS
from audits.engine.static_server import LoopbackServer, Reply
from helpers import load_json, run_cli

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


def page(title, body, head=""):
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><main><h1>{title}</h1>{body}</main></body></html>")


FRAME_A = page("Frame A", '<img src="/a.png"><input type="text">')  # image-alt, label
FRAME_B = '<!doctype html><html><head><title>Frame B</title></head><body><button></button></body></html>'  # html-has-lang, button-name


def fixture_routes(allowed: str, blocked: str) -> tuple[dict, dict]:
    """(routes, {path: path of the page a11ycrawl audits for it}). ``allowed`` and ``blocked`` are
    the base URLs of two other origins: frames from the first are in scope (``--allow-host``), from
    the second not (a third party's widget: audited with the page, never crawled)."""
    pages = {
        "/": page("Home", '<img src="/logo.png"><ul>' + "".join(
            f'<li><a href="{p}">{p}</a></li>' for p in (
                "/refresh-later", "/refresh-now", "/same", "/srcdoc", "/sandbox-none", "/sandbox-scripts",
                "/sandbox-removed", "/sandbox-mixed", "/nested", "/cross-allowed", "/cross-blocked", "/scripted",
                "/large")) + "</ul>"),
        # WCAG 2.2.1: a refresh after a delay fails axe's meta-refresh rule
        "/refresh-later": page("Refresh later", '<input type="text">',
                               '<meta http-equiv="refresh" content="30; url=/refresh-later-target">'),
        "/refresh-later-target": page("Where the refresh leads", "<p>Reached only through the refresh.</p>"),
        "/refresh-now": page("Refresh now", '<input type="text">', '<meta http-equiv="refresh" content="0; url=/refresh-target">'),
        "/refresh-target": page("Refreshed to", '<img src="/r.png">'),
        "/same": page("Same origin", '<iframe src="/frame-a" title="A"></iframe>'),
        "/srcdoc": page("srcdoc", '<iframe title="Inline" srcdoc="<p>inline</p><img src=/x.png><button></button>"></iframe>'),
        "/sandbox-none": page("Sandbox", '<img src="/s.png"><iframe sandbox="" src="/frame-a" title="Sandboxed"></iframe>'),
        "/sandbox-scripts": page("Sandbox scripts", '<iframe sandbox="allow-scripts" src="/frame-a" title="S"></iframe>'),
        # sandboxed when it loaded; the attribute is gone by the time axe runs (the frame stays
        # scriptless): only the frame's own bounded wait can tell
        "/sandbox-removed": page("Sandbox removed", '<iframe sandbox="" src="/frame-a" title="R"></iframe>',
                                 "<script>addEventListener('load', () => document.querySelector('iframe')"
                                 ".removeAttribute('sandbox'));</script>"),
        "/sandbox-mixed": page("Mixed", '<iframe sandbox="" src="/frame-a" title="No scripts"></iframe>'
                                        '<iframe src="/frame-b" title="B"></iframe><iframe src="/frame-b"></iframe>'),
        "/nested": page("Nested", '<iframe src="/frame-nest" title="Outer"></iframe>'),
        "/frame-nest": page("Nest", '<iframe src="/frame-nest2" title="Middle"></iframe><img src="/n.png">'),
        "/frame-nest2": page("Nest 2", '<iframe sandbox="allow-scripts" src="/frame-b" title="Inner"></iframe>'),
        "/cross-allowed": page("Cross allowed", f'<iframe src="{allowed}/frame-a" title="Partner"></iframe>'),
        "/cross-blocked": page("Cross blocked", f'<iframe src="{blocked}/frame-a" title="Elsewhere"></iframe>'),
        # inserted by a timer 30 ms after DOMContentLoaded, within the settle wait's 50 ms quiet window
        "/scripted": page("Scripted", '<div id="late"></div>', """<script>
document.addEventListener('DOMContentLoaded', () => setTimeout(() => {
  document.getElementById('late').innerHTML = '<img src="/late.png"><a href="/"></a><input type="checkbox">';
}, 30));</script>"""),
        "/large": page("Large", "<ul>" + "".join(
            f'<li><a href="/large#{i}">Item {i}</a> <img src="/i{i % 7}.png" alt="">{"<b></b>" if i % 50 else "<img src=/x.png>"}</li>'
            for i in range(600)) + "</ul>"),
        "/frame-a": FRAME_A,
        "/frame-b": FRAME_B,
    }
    routes = {path: Reply(body=body) for path, body in pages.items()}
    routes["/robots.txt"] = Reply(404)
    audited_as = {p: p for p in pages if not p.startswith("/frame-") and p != "/refresh-now"}
    audited_as["/refresh-now"] = "/refresh-target"
    return routes, audited_as


def reference_violations(urls, by_node=False):
    """{url: violations} from plain axe.run, in the same Chromium with the same axe and options."""
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=launch_args())
        for url in urls:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_init_script(axe_source() + "\n;axe.configure({allowedOrigins: ['<unsafe_all_origins>']});")
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(400)  # settled: script-inserted content is in
            page.wait_for_load_state("load")  # (after a 0 s refresh: the page it led to)
            res = page.evaluate("(opts) => axe.run(document, opts)", axe_options(DEFAULT_TAGS))
            out[url] = _violations(res["violations"], "id", by_node)
            context.close()
        browser.close()
    return out


def _violations(violations, key, by_node):
    if not by_node:
        return {v[key] for v in violations}
    return {(v[key], tuple(tuple(t) if isinstance(t, list) else t for t in n["target"]))
            for v in violations for n in v["nodes"]}


def test_matches_axe_classic_run(cli, serve, tmp_path):
    server = serve({"/": Reply(body=OUTER), "/inner.html": Reply(body=INNER), "/inner2.html": Reply(body=INNER2),
                    "/deep.html": Reply(body=DEEP), "/robots.txt": Reply(404)})
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"),
              "--max-pages", "1", "--no-sitemaps", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    page = next(p for p in load_json(tmp_path / "r.json")["pages"] if p["status"] == "audited")
    ours = _violations(page["violations"], "rule", by_node=True)
    ref = reference_violations([server.url], by_node=True)[server.url]
    assert ours == ref
    # and it really did reach the nested frames
    assert any(len(t) == 3 for _, t in ours), ours
    assert page["frames"] == 4


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    """One a11ycrawl run over the varied fixture set, and plain axe.run on each of its pages."""
    tmp = tmp_path_factory.mktemp("reference")
    # frame_timeout: the frame whose sandbox attribute was removed is given up after 3 s
    (tmp / "a11ycrawl.toml").write_text("frame_timeout = 3\n")
    with LoopbackServer({}) as allowed_server, LoopbackServer({}) as blocked_server:
        allowed = allowed_server.origin  # another port: a cross-origin frame, in scope
        routes, audited_as = fixture_routes(allowed, blocked_server.origin)
        allowed_server.app.update({"/frame-a": Reply(body=FRAME_A)})
        blocked_server.app.update({"/frame-a": Reply(body=FRAME_A)})
        with LoopbackServer(routes) as site:
            res = run_cli("audit", site.url, "--db", str(tmp / "a.db"), "--json", str(tmp / "r.json"),
                          "--no-sitemaps", "--allow-host", allowed.split("//")[1], cwd=tmp)
            assert res.returncode == 0, res.stderr[-3000:]
            blocked_requests = dict(blocked_server.requests)
            ref = reference_violations([site.origin + p for p in audited_as], by_node=True)
    doc = load_json(tmp / "r.json")
    pages = {p["url"][len(site.origin):]: p for p in doc["pages"] if p["url"].startswith(site.origin)}
    ref = {url[len(site.origin):]: v for url, v in ref.items()}
    return dict(pages=pages, ref=ref, audited_as=audited_as, blocked_requests=blocked_requests)


def test_every_page_matches_axe_run(varied):
    """Page by page, the violated rules (and the nodes) are plain axe.run's."""
    pages, ref = varied["pages"], varied["ref"]
    wrong = {}
    for path, ours_path in varied["audited_as"].items():
        page = pages[ours_path]
        assert page["status"] == "audited", (path, page["reason_code"], page["reason"])
        ours = _violations(page["violations"], "rule", by_node=True)
        if ours != ref[path]:
            wrong[path] = {"only ours": sorted(ours - ref[path]), "only axe.run": sorted(ref[path] - ours)}
    assert not wrong, wrong
    # the set is varied: frames were reached, and rules from every part of it were found
    rules = {r for p in varied["audited_as"].values() for r, _ in _violations(pages[p]["violations"], "rule", True)}
    assert {"meta-refresh", "image-alt", "label", "button-name", "link-name", "frame-title"} <= rules, rules
    assert {v["rule"] for v in pages["/cross-allowed"]["violations"]} == {"image-alt", "label"}
    assert {v["rule"] for v in pages["/cross-blocked"]["violations"]} == {"image-alt", "label"}


def test_frames_reached_and_unaudited_ones_listed(varied):
    pages = varied["pages"]
    assert pages["/same"]["frames"] == 2 and pages["/srcdoc"]["frames"] == 2
    assert pages["/sandbox-scripts"]["frames"] == 2 and pages["/cross-allowed"]["frames"] == 2
    assert pages["/nested"]["frames"] == 4
    for path, frames in (("/sandbox-none", 1), ("/sandbox-removed", 1), ("/sandbox-mixed", 3)):
        assert pages[path]["frames"] == frames, (path, pages[path]["frames"])
        (unaudited,) = pages[path]["frames_unaudited"]
        assert unaudited["src"].endswith("/frame-a") and unaudited["reason"], unaudited
    assert "sandboxed without allow-scripts" in pages["/sandbox-none"]["frames_unaudited"][0]["reason"]
    assert "without finishing" in pages["/sandbox-removed"]["frames_unaudited"][0]["reason"]
    assert pages["/same"]["frames_unaudited"] == []
    # the frame outside the audit's hosts was loaded (with its image) as part of its page, once,
    # and nothing there was crawled
    assert varied["blocked_requests"] == {"/frame-a": 1, "/a.png": 1}, varied["blocked_requests"]
    assert pages["/cross-blocked"]["frames"] == 2


def test_meta_refresh_with_and_without_delay(varied):
    pages = varied["pages"]
    later = pages["/refresh-later"]
    assert later["final_url"].endswith("/refresh-later")
    assert "meta-refresh" in {v["rule"] for v in later["violations"]}
    # the refresh's target is crawled as a link of the page
    target = pages["/refresh-later-target"]
    assert target["status"] == "audited" and target["referrer"].endswith("/refresh-later"), target
    now = pages["/refresh-now"]
    assert (now["status"], now["reason_code"]) == ("skipped", "duplicate")
    assert "meta-refresh" not in {v["rule"] for v in pages["/refresh-target"]["violations"]}
