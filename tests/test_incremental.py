"""Issue 6: re-audits carry unchanged pages over, and any change to a page's HTML, a script, a
stylesheet or data it fetches makes that page be rendered and audited again."""

import sqlite3

import pytest

from audits.engine.static_server import Reply
from fixture_site import page

pytestmark = pytest.mark.browser
N = 8
CSS_OK = "a { display: inline-block; min-height: 24px; padding: 4px; } .note { color: #222; background: #fff; }"
CSS_BAD = CSS_OK.replace("#222", "#ddd")  # the note's contrast fails


def make_site():
    head = '<link rel="stylesheet" href="/site.css"><script src="/app.js"></script>'
    r = {
        "/": Reply(body=page("Home", "".join(f'<a href="/p{i}">Page {i}</a>' for i in range(N)) + '<a href="/news">News</a>', head=head)),
        "/site.css": Reply(body=CSS_OK, ctype="text/css"),
        "/app.js": Reply(body="window.appVersion = 1;", ctype="application/javascript"),
        "/news": Reply(body=page("News", '<div id="n"></div>', head=head + """<script>
document.addEventListener('DOMContentLoaded', () => fetch('/news.json').then(r => r.json()).then(d => {
  document.getElementById('n').innerHTML = d.html; }));</script>""")),
        "/news.json": Reply(body='{"html": "<p>All well.</p>"}', ctype="application/json"),
        "/robots.txt": Reply(404),
    }
    for i in range(N):
        r[f"/p{i}"] = Reply(body=page(f"Page {i}", f'<p class="note">Note {i}</p>', head=head))
    return r


def audited_pages(audit, server, **flags):
    store, outcome = audit(server.url, sitemaps=False, **flags)
    assert outcome.status == "complete", outcome
    con = sqlite3.connect(store.path)
    run_id = outcome.run_id
    rows = con.execute("select url, reused_from is not null, violations from pages where run_id = ? and status = 'audited'",
                       [run_id]).fetchall()
    path = lambda u: "/" + u.split("/", 3)[3]
    return {path(u): (bool(r), v) for u, r, v in rows}, con, run_id


def rendered(pages):
    return {p for p, (reused, _) in pages.items() if not reused}


def test_unchanged_site_is_carried_over_and_changes_are_reaudited(audit, serve):
    routes = make_site()
    server = serve(routes)
    first, con, run1 = audited_pages(audit, server)
    assert len(first) == N + 2 and rendered(first) == set(first)

    server.requests.clear()
    second, con, run2 = audited_pages(audit, server)
    assert rendered(second) == set()                       # nothing rendered again
    assert second == {p: (True, v) for p, (_, v) in first.items()}
    assert "/favicon.ico" not in server.requests           # the browser was never used
    # findings carried over identically
    f = lambda run: sorted(con.execute("select p.url, rule, target, html from findings f join pages p on p.id = f.page_id "
                                       "where f.run_id = ?", [run]).fetchall())
    assert f(run1) == f(run2)

    routes["/p3"] = Reply(body=page("Page 3", '<p class="note">Changed</p><img src="/x.png">',
                                    head='<link rel="stylesheet" href="/site.css"><script src="/app.js"></script>'))
    third, _, _ = audited_pages(audit, server)
    assert rendered(third) == {"/p3"}                      # HTML changed
    assert third["/p3"][1] > first["/p3"][1]               # and the new image-alt failure is found

    routes["/news.json"] = Reply(body='{"html": "<img src=\\"/y.png\\">"}', ctype="application/json")
    fourth, _, _ = audited_pages(audit, server)
    assert rendered(fourth) == {"/news"}                   # data fetched by the page changed

    routes["/app.js"] = Reply(body="window.appVersion = 2;", ctype="application/javascript")
    fifth, _, _ = audited_pages(audit, server)
    assert rendered(fifth) == set(first)                   # a shared script changed: everything

    routes["/site.css"] = Reply(body=CSS_BAD, ctype="text/css")
    sixth, _, _ = audited_pages(audit, server)
    assert rendered(sixth) == set(first)                   # a shared stylesheet changed
    assert sixth["/p0"][1] == first["/p0"][1] + 1          # color-contrast now fails

    seventh, _, _ = audited_pages(audit, server, full=True)
    assert rendered(seventh) == set(first)                 # --full renders everything


def test_a_page_stored_with_older_facts_is_rendered_again(audit, serve):
    """Facts gathered by an older a11ycrawl lack what the cross-page checks read: such a page is
    audited again rather than carried over."""
    server = serve(make_site())
    first, con, run1 = audited_pages(audit, server)
    con.execute("update pages set facts = json_remove(facts, '$.facts_version') where run_id = ? and url like '%/p2'",
                [run1])
    con.commit()
    second, _, _ = audited_pages(audit, server)
    assert rendered(second) == {"/p2"}
