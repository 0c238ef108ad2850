"""Issue 3: a run stopped by Ctrl-C or killed with SIGKILL keeps what it audited and resumes
without losing or duplicating a page. The runs that get a signal are subprocesses (as in real
use); the resumed runs are audited in this process."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from helpers import N, audited_count, site_routes

pytestmark = pytest.mark.browser






def start_and_stop(server, db, tmp_path, sig):
    proc = subprocess.Popen(
        [sys.executable, "-m", "reports.cli", "audit", server.url, "--db", db, "-q", "--concurrency", "1",
         "--no-sitemaps"], cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while audited_count(db) < 6:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    if sig == signal.SIGKILL:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole tree, Chromium included: nothing gets to clean up
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err


def check_resumed(db, audit, server):
    before = audited_count(db)
    assert 6 <= before < N + 1
    _, outcome = audit(server.url, db=db, resume=True, sitemaps=False)
    assert outcome.status == "complete", outcome
    con = sqlite3.connect(db)
    runs = con.execute("select id, status from runs").fetchall()
    assert len(runs) == 1 and runs[0][1] == "complete", runs
    urls = [u for (u,) in con.execute("select url from pages where status = 'audited'")]
    assert len(urls) == len(set(urls)) == N + 1, sorted(urls)
    # each page's findings are stored once
    dupes = con.execute("select page_id, count(*) from findings group by page_id having count(*) > 1").fetchall()
    assert dupes == []
    return before


def test_sigkill_then_resume(serve, audit, tmp_path):
    server = serve(site_routes())
    db = str(tmp_path / "r.db")
    code, _ = start_and_stop(server, db, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    status = sqlite3.connect(db).execute("select status from runs").fetchone()[0]
    assert status == "running"  # killed: never marked complete, so it can never look clean
    check_resumed(db, audit, server)


def test_ctrl_c_then_resume(serve, audit, tmp_path):
    server = serve(site_routes())
    db = str(tmp_path / "r.db")
    code, err = start_and_stop(server, db, tmp_path, signal.SIGINT)
    assert code == 130, err
    assert "--resume" in err and "Traceback" not in err
    status = sqlite3.connect(db).execute("select status from runs").fetchone()[0]
    assert status == "incomplete"
    check_resumed(db, audit, server)


def test_nothing_to_resume(cli, serve, tmp_path):
    server = serve(site_routes())
    res = cli("audit", server.url, "--db", str(tmp_path / "x.db"), "--resume", "-q")
    assert res.returncode == 2 and "nothing to resume" in res.stderr


def test_chromium_killed_mid_run_is_relaunched(serve, tmp_path):
    """Chromium itself dies part-way: the pages in flight fail with a reason, it is launched again
    and every other page is audited; the run completes."""
    import json

    import psutil

    server = serve(site_routes())
    db = str(tmp_path / "r.db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reports.cli", "audit", server.url, "--db", db, "-q", "--no-sitemaps",
         "--json", str(tmp_path / "r.json")], cwd=tmp_path, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while audited_count(db) < 5:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    def is_browser(p):
        try:
            return "chrom" in p.name() and not any(a.startswith("--type=") for a in p.cmdline())
        except psutil.Error:  # zombies and processes that just exited
            return False

    browsers = [p for p in psutil.Process(proc.pid).children(recursive=True) if is_browser(p)]
    assert browsers  # usually one; a relaunch under load can briefly show two
    for b in browsers:
        b.kill()
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    pages = json.loads((tmp_path / "r.json").read_text())["pages"]
    states = [(p["status"], p["reason_code"]) for p in pages if p["reason_code"] != "broken_link"]  # template nav 404s
    assert all(s == ("audited", None) or s == ("failed", "renderer_crashed") for s in states), states
    assert states.count(("audited", None)) >= N + 1 - 2  # at most the pages in flight were lost
