"""a11ycrawl vs the fastest simple Playwright + axe-core loop, side by side on one synthetic site.

Serves a deterministic synthetic council site (``benchmarks/sitegen.py``) on 127.0.0.1 and measures,
on the same URLs, each run in its own subprocess so its whole process tree (Python, Playwright's
driver, Chromium and its renderers) can be measured the same way:

- ``a11ycrawl audit <home> --max-pages <N+10> -q --db <tmp>`` (discovery from the home page included);
- the *reference loop*: one Chromium through Playwright (async), N pages kept open (N = 1, 2, 4),
  each navigated from URL to URL over the sitemap's URLs: ``goto(url, wait_until="load")``, inject
  axe-core (``page.evaluate(axe_source())``), ``axe.run(document, options)`` with a11ycrawl's
  options for its default tags, collect the result.

For each run: pages/second (pages audited / wall time of the subprocess), CPU seconds per page (user
+ sys of the whole process tree: psutil sampled every 0.5 s, last-seen cpu_times of every process,
since children exit; the kernel's RUSAGE_CHILDREN total is kept in the JSON but undercounts: Chromium
is not reaped through the measured chain), peak
RSS of the tree (sum of RSS of all its processes at each sample, max over samples), pages dropped
(expected minus audited) and the ratio a11ycrawl / best reference for pages/s. Memory of the tree is
printed every few seconds (``--memory-csv FILE`` keeps every sample) so flat memory can be seen.

Usage::

    python benchmarks/bench.py                         # 300 pages, a11ycrawl + reference N=1,2,4
    python benchmarks/bench.py --pages 2000 --repeat 3 --json /tmp/bench.json --memory-csv /tmp/mem.csv
    python benchmarks/bench.py --only a11ycrawl --reaudit            # + a second run on the same db
    python benchmarks/bench.py --only a11ycrawl --reaudit --mutate script   # correctness of re-audits
    python benchmarks/bench.py --only reference --concurrency 2
    python benchmarks/bench.py --only a11ycrawl --py-spy /tmp/prof  # profile a11ycrawl's Python
    python benchmarks/bench.py --concurrency 2 --before /tmp/old    # this version and an older checkout, side by side
    python benchmarks/bench.py --backend grid,playwright-server,local --nodes 1,2   # browser backends

``--backend`` runs a11ycrawl only, once per backend and node count, each node with ``--slots`` browser
slots and a11ycrawl's ``--concurrency`` = nodes x slots: ``local`` (Chromium launched by a11ycrawl),
``playwright-server`` (``playwright run-server`` processes, one per node) and ``grid`` (a Selenium
Grid 4 hub and nodes, as tests/grid.py starts them; ``scripts/install-grid.sh`` installs it). It
prints pages/s and the *coordinator's* CPU per page: the CPU of a11ycrawl's Python process and of
Playwright's Node.js driver (not Chromium's), from which the most pages/s one
coordinator core can feed (1 / coordinator CPU per page) follows. The browsers' CPU is given as
"browser CPU s/page" (everything else the machine did during the run: on a shared machine, an
upper bound).

Nothing leaves 127.0.0.1; the site, the server and every process are started and stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

MB = 1024 * 1024


# ================================================================================================
# The reference loop (runs in a subprocess: ``bench.py _reference ...``)
# ================================================================================================


# The reference loop's browser flags: those the project brief asks every Chromium here to have,
# nothing tuned. ``--reference-flags tuned`` gives it a11ycrawl's own launch flags instead.
BRIEF_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run"]


def reference_args(flags: str) -> list[str]:
    from audits.engine.browser import launch_args

    if flags == "tuned":
        return launch_args()
    return (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []) + BRIEF_ARGS


async def _reference(urls: list[str], n: int, timeout: float, flags: str = "brief") -> dict:
    from playwright.async_api import async_playwright

    from audits.engine.axe import axe_options, axe_source
    from audits.engine.browser import find_chromium
    from audits.config import DEFAULT_TAGS

    src = axe_source()
    options = axe_options(DEFAULT_TAGS)
    rules: dict[str, list[str]] = {}
    failures: list[tuple[str, str]] = []
    phases = Counter()
    t_start = time.monotonic()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(), headless=True, args=reference_args(flags))
        t_launched = time.monotonic()

        async def new_page():
            return await browser.new_page(viewport={"width": 1280, "height": 800})

        todo = iter(urls)

        async def worker() -> None:
            page = await new_page()
            for url in todo:  # one shared iterator: each page takes the next URL
                try:
                    t0 = time.monotonic()
                    await page.goto(url, wait_until="load", timeout=timeout * 1000)
                    t1 = time.monotonic()
                    await asyncio.wait_for(page.evaluate(src), timeout)
                    t2 = time.monotonic()
                    res = await asyncio.wait_for(page.evaluate("(o) => axe.run(document, o)", options), timeout)
                    t3 = time.monotonic()
                    phases["goto"] += t1 - t0
                    phases["inject"] += t2 - t1
                    phases["axe"] += t3 - t2
                    rules[url] = sorted({v["id"] for v in res["violations"]})
                except Exception as exc:  # noqa: BLE001 - a failure is a dropped page, counted
                    msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                    failures.append((url, msg))
                    try:
                        await page.close()
                    except Exception:  # noqa: BLE001
                        pass
                    page = await new_page()
            await page.close()

        await asyncio.gather(*(worker() for _ in range(n)))
        await browser.close()
    return {"audited": len(rules), "failures": failures, "rules": rules, "phases": dict(phases),
            "launch_s": t_launched - t_start, "loop_s": time.monotonic() - t_launched}


async def _rule_timing(urls: list[str]) -> dict:
    """One page, sequentially: CPU of the whole tree per phase (load, inject, axe) and axe's per-rule timers."""
    import psutil
    from playwright.async_api import async_playwright

    from audits.engine.axe import axe_options, axe_source
    from audits.engine.browser import find_chromium, launch_args
    from audits.config import DEFAULT_TAGS

    me = psutil.Process()

    def tree_cpu() -> float:
        total = 0.0
        for p in [me] + me.children(recursive=True):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    src = axe_source()
    options = {**axe_options(DEFAULT_TAGS), "performanceTimer": True}
    cpu = Counter()
    wall = Counter()
    rules: Counter = Counter()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(), headless=True, args=launch_args())
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("console", lambda m: None)
        for url in urls:
            c0, t0 = tree_cpu(), time.monotonic()
            await page.goto(url, wait_until="load")
            c1, t1 = tree_cpu(), time.monotonic()
            await page.evaluate(src)
            c2, t2 = tree_cpu(), time.monotonic()
            await page.evaluate("(o) => { performance.clearMeasures(); return axe.run(document, o).then(() => 0); }", options)
            c3, t3 = tree_cpu(), time.monotonic()
            measures = await page.evaluate(
                "() => performance.getEntriesByType('measure').map(m => [m.name, m.duration])")
            for name, dur in measures:
                if name.startswith("rule_"):
                    rid = name[5:].split("#", 1)[0]
                    if "#" not in name[5:]:
                        rules[rid] += dur
            cpu.update({"load": c1 - c0, "inject": c2 - c1, "axe": c3 - c2})
            wall.update({"load": t1 - t0, "inject": t2 - t1, "axe": t3 - t2})
        await browser.close()
    n = len(urls)
    return {"pages": n, "cpu_ms_per_page": {k: round(1000 * v / n) for k, v in cpu.items()},
            "wall_ms_per_page": {k: round(1000 * v / n) for k, v in wall.items()},
            "rule_ms_per_page": {k: round(v / n, 1) for k, v in rules.most_common()}}


def rule_timing_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.py _ruletiming")
    ap.add_argument("--urls", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    urls = [u for u in Path(a.urls).read_text().split() if u]
    Path(a.out).write_text(json.dumps(asyncio.run(_rule_timing(urls))))
    return 0


def reference_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.py _reference")
    ap.add_argument("--urls", required=True, help="file with one URL a line")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--flags", choices=["brief", "tuned"], default="brief")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    urls = [u for u in Path(a.urls).read_text().split() if u]
    result = asyncio.run(_reference(urls, a.concurrency, a.timeout, a.flags))
    Path(a.out).write_text(json.dumps(result))
    return 0


# ================================================================================================
# Measuring a process tree
# ================================================================================================


class TreeMonitor(threading.Thread):
    """Samples a process tree every ``interval`` s: CPU (last-seen per process) and summed RSS."""

    def __init__(self, root_pid: int, label: str, interval: float = 0.5, report_every: float = 5.0,
                 progress=None, echo: bool = True, pss_every: float = 5.0):
        super().__init__(daemon=True, name=f"monitor-{label}")
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(root_pid)
        self.label = label
        self.interval = interval
        self.report_every = report_every
        self.progress = progress or (lambda: None)
        self.echo = echo
        self.stop_event = threading.Event()
        self.t0 = time.monotonic()
        self.cpu: dict[tuple[int, float], float] = {}
        self.names: dict[tuple[int, float], str] = {}
        self.samples: list[dict] = []  # every sample: t, rss_mb, procs, cpu_s, pages
        self.peak_rss = 0
        self.peak_procs = 0
        self.pss_every = pss_every
        self.peak_pss = 0
        self._last_pss = -1e9

    def _tree(self):
        try:
            return [self.root] + self.root.children(recursive=True)
        except self.psutil.NoSuchProcess:
            return [self.root]

    def sample(self) -> dict:
        rss = 0
        n = 0
        now = time.monotonic()
        want_pss = bool(self.pss_every) and now - self._last_pss >= self.pss_every
        pss = 0 if want_pss else None
        for p in self._tree():
            try:
                with p.oneshot():
                    key = (p.pid, p.create_time())
                    ct = p.cpu_times()
                    mem = p.memory_info().rss
                    if key not in self.names:
                        self.names[key] = p.name()
            except (self.psutil.NoSuchProcess, self.psutil.ZombieProcess, self.psutil.AccessDenied):
                continue
            self.cpu[key] = ct.user + ct.system
            rss += mem
            n += 1
            if want_pss:
                pss += _pss(p.pid)
        s = {"t": round(time.monotonic() - self.t0, 2), "rss_mb": round(rss / MB, 1), "procs": n,
             "cpu_s": round(sum(self.cpu.values()), 2), "pages": self.progress(),
             "pss_mb": round(pss / MB, 1) if pss is not None else None}
        if want_pss:
            self._last_pss = now
        if n:
            self.samples.append(s)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_procs = max(self.peak_procs, n)
            if pss is not None:
                self.peak_pss = max(self.peak_pss, pss)
        return s

    def run(self) -> None:
        next_report = self.report_every
        while not self.stop_event.is_set():
            s = self.sample()
            if s["pss_mb"] is not None:
                self._last_pss_mb = s["pss_mb"]
            if self.echo and self.report_every and s["t"] >= next_report:
                next_report += self.report_every
                pss = getattr(self, "_last_pss_mb", None)
                print(f"    [{self.label}] t={s['t']:6.1f}s  tree RSS {s['rss_mb']:7.0f} MB"
                      + (f"  PSS {pss:6.0f} MB" if pss is not None else "")
                      + f"  procs {s['procs']:2d}  CPU {s['cpu_s']:7.1f} s  pages {s['pages']}", flush=True)
            self.stop_event.wait(self.interval)

    def finish(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    def cpu_by_process(self) -> dict[str, float]:
        out: Counter = Counter()
        for key, v in self.cpu.items():
            out[self.names.get(key, "?")] += v
        return {k: round(v, 1) for k, v in out.most_common()}

    def rss_growth(self) -> dict:
        """Median tree RSS in the 2nd and 4th quarters of the run (flat memory: small difference)."""
        s = self.samples
        if len(s) < 8:
            return {}
        end = s[-1]["t"]
        q2 = [x["rss_mb"] for x in s if end * 0.25 <= x["t"] < end * 0.5]
        q4 = [x["rss_mb"] for x in s if end * 0.75 <= x["t"] <= end * 0.97]
        if not q2 or not q4:
            return {}
        a, b = statistics.median(q2), statistics.median(q4)
        return {"q2_median_mb": round(a), "q4_median_mb": round(b), "growth_mb": round(b - a)}


def _pss(pid: int) -> int:
    """Proportional set size of ``pid`` in bytes (shared pages divided among their users); 0 if unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def kill_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = root.children(recursive=True) + [root]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


@dataclass
class RunResult:
    tool: str  # "a11ycrawl" or "reference"
    label: str
    concurrency: int | None
    expected: int
    audited: int = 0
    dropped: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # sampled tree CPU (last-seen per process)
    cpu_rusage_s: float = 0.0  # RUSAGE_CHILDREN delta (every reaped descendant)
    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0  # max over samples (every --pss-interval s) of the summed PSS of the tree
    peak_procs: int = 0
    exit_code: int | None = None
    error: str | None = None
    server_requests: dict = field(default_factory=dict)
    server_cpu_s: float = 0.0  # this process (the HTTP server) during the run
    foreign_cpu_pct: float = 0.0  # CPU used by other processes on the machine, % of all cores
    loadavg: list = field(default_factory=list)  # 1-min load average at start and end
    statuses: dict = field(default_factory=dict)
    reused: int = 0
    rss_growth: dict = field(default_factory=dict)
    cpu_by_process: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        return self.audited / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_per_page(self) -> float:
        return self.cpu_s / self.audited if self.audited else float("nan")

    def row(self) -> dict:
        d = asdict(self)
        d["pages_per_s"] = round(self.pages_per_s, 3)
        d["cpu_s_per_page"] = round(self.cpu_per_page, 3) if self.audited else None
        d["cpu_rusage_s_per_page"] = round(self.cpu_rusage_s / self.audited, 3) if self.audited else None
        return d


def measure(cmd: list[str], label: str, server, args, cwd: str, env: dict | None = None,
            timeout: float = 3600.0, csv_rows: list | None = None, progress=None) -> tuple[RunResult, int]:
    """Run ``cmd`` and measure its tree. Returns a partly filled RunResult and the exit code."""
    import psutil

    me = psutil.Process()
    my_cpu0 = sum(me.cpu_times()[:2])
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys0 = psutil.cpu_times()
    load0 = os.getloadavg()[0]
    server.reset_stats()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    mon = TreeMonitor(proc.pid, label, interval=args.sample_interval, report_every=args.mem_interval,
                      progress=progress or (lambda: server.snapshot().get("page_requests_browser", 0)),
                      echo=not args.quiet_progress, pss_every=args.pss_interval)
    mon.t0 = t0
    mon.start()
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_tree(proc.pid)
        out, err = proc.communicate()
    except BaseException:
        kill_tree(proc.pid)
        proc.wait()
        mon.finish()
        raise
    wall = time.monotonic() - t0
    mon.sample()
    mon.finish()
    # Chromium helpers that outlived the root (should not happen): kill them, they are ours
    for key in list(mon.cpu):
        try:
            p = psutil.Process(key[0])
            if p.create_time() == key[1] and p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                p.kill()
        except psutil.NoSuchProcess:
            pass
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys1 = psutil.cpu_times()
    r = RunResult(tool="", label=label, concurrency=None, expected=0)
    r.wall_s = round(wall, 2)
    r.cpu_s = round(mon.cpu_total, 2)
    r.cpu_rusage_s = round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 2)
    r.peak_rss_mb = round(mon.peak_rss / MB)
    r.peak_pss_mb = round(mon.peak_pss / MB)
    r.peak_procs = mon.peak_procs
    r.exit_code = proc.returncode
    r.server_requests = server.snapshot()
    r.server_cpu_s = round(sum(me.cpu_times()[:2]) - my_cpu0, 2)
    r.rss_growth = mon.rss_growth()
    # machine noise: CPU used by everything else on the machine during the run (other users' tests...)
    busy = (sum(sys1) - sys1.idle - getattr(sys1, "iowait", 0)) - (sum(sys0) - sys0.idle - getattr(sys0, "iowait", 0))
    cores = psutil.cpu_count() or 1
    r.foreign_cpu_pct = round(100 * max(0.0, busy - r.cpu_s - r.server_cpu_s) / (wall * cores), 1)
    r.loadavg = [round(load0, 2), round(os.getloadavg()[0], 2)]
    r.cpu_by_process = mon.cpu_by_process()
    if timed_out:
        r.error = f"timed out after {timeout:.0f} s (killed)"
    elif proc.returncode != 0:
        tail = (err or b"").decode(errors="replace").strip().splitlines()[-5:]
        r.error = f"exit code {proc.returncode}: " + " | ".join(tail)
    r.extra["stderr_tail"] = (err or b"").decode(errors="replace")[-2000:]
    if csv_rows is not None:
        for s in mon.samples:
            csv_rows.append({"run": label, **s})
    return r, proc.returncode


# ================================================================================================
# The two contenders
# ================================================================================================


def _path(url: str) -> str:
    p = urlsplit(url).path or "/"
    return p if p == "/" else p.rstrip("/")


CHROMIUM_OVERRIDE: list[str] = []  # set by --chromium: the same browser for both sides


def _browser_line() -> str:
    from audits.engine.browser import find_chromium
    from audits.errors import BrowserError

    try:
        exe = find_chromium(environ=clean_env())
    except BrowserError as exc:
        raise SystemExit(f"bench.py: error: {exc}") from None
    try:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        version = "?"
    return f"{exe} ({version})"


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("A11YCRAWL_")}
    if CHROMIUM_OVERRIDE:
        env["A11YCRAWL_CHROMIUM"] = CHROMIUM_OVERRIDE[0]
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def a11ycrawl_cmd(args) -> list[str]:
    if args.a11ycrawl_cmd:
        return args.a11ycrawl_cmd.split()
    return [sys.executable, "-m", "reports.cli"]


def read_a11ycrawl_db(db: str) -> dict:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("select id, status, error from runs order by id desc limit 1").fetchone()
        if not row:
            return {"run_id": None}
        run_id, status, error = row
        audited = [u for (u,) in con.execute("select url from pages where run_id=? and status='audited'", [run_id])]
        statuses = Counter()
        for st, code, n in con.execute("select status, coalesce(reason_code,''), count(*) from pages where run_id=? "
                                       "group by 1, 2", [run_id]):
            statuses[f"{st}:{code}" if code else st] += n
        cols = {r[1] for r in con.execute("pragma table_info(pages)")}
        reused_paths: list[str] = []
        if "reused_from" in cols:
            reused_paths = [_path(u) for (u,) in con.execute(
                "select url from pages where run_id=? and reused_from is not null", [run_id])]
        rules: dict[str, set[str]] = {}
        for url, rule in con.execute("select p.url, f.rule from findings f join pages p on p.id=f.page_id "
                                     "where f.run_id=? and f.kind='violation'", [run_id]):
            rules.setdefault(_path(url), set()).add(rule)
        timing = con.execute("select avg(load_ms), avg(audit_ms) from pages where run_id=? and status='audited'",
                             [run_id]).fetchone()
        facts_axe = con.execute(
            "select avg(json_extract(facts,'$.axe_ms')), avg(json_extract(facts,'$.settle_ms')) from pages "
            "where run_id=? and status='audited' and facts is not null", [run_id]).fetchone()
        return {"run_id": run_id, "status": status, "error": error, "audited_paths": [_path(u) for u in audited],
                "statuses": dict(statuses), "reused_paths": reused_paths, "rules": rules,
                "avg_load_ms": timing[0], "avg_audit_ms": timing[1],
                "avg_axe_ms": facts_axe[0], "avg_settle_ms": facts_axe[1], "settle": _settle_stats(con, run_id)}
    finally:
        con.close()


def _settle_stats(con, run_id: int) -> dict:
    """How the pages of a run settled (facts written by the settle wait): median, 95th percentile and
    maximum wait, pages settled at once (0-1 ms: no scripts), pages audited at the cap (unsettled),
    and how often each kind of work was waited for. Runs from before these facts have only ``ms``."""
    ms, unsettled, kinds = [], 0, Counter()
    for settle_ms, settled, waited in con.execute(
            "select json_extract(facts,'$.settle_ms'), json_extract(facts,'$.settled'), "
            "json_extract(facts,'$.settle_waited_for') from pages where run_id=? and status='audited' "
            "and reused_from is null and facts is not null", [run_id]):
        if settle_ms is None:
            continue
        ms.append(settle_ms)
        unsettled += settled == 0
        kinds.update(json.loads(waited or "[]"))
    if not ms:
        return {}
    ms.sort()
    return {"pages": len(ms), "median_ms": statistics.median(ms), "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
            "max_ms": ms[-1], "at_once": sum(m <= 1 for m in ms), "unsettled": unsettled,
            "waited_for": dict(kinds.most_common())}


def _db_progress(db: str):
    """Pages audited so far by the newest run in a11ycrawl's db (WAL: reading does not block it)."""
    before = {"run": None}
    if os.path.exists(db):
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
            before["run"] = con.execute("select max(id) from runs").fetchone()[0]
            con.close()
        except sqlite3.Error:
            pass

    def progress():
        if not os.path.exists(db):
            return 0
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
            try:
                row = con.execute("select count(*) from pages where run_id = (select max(id) from runs) "
                                  "and run_id > ? and status = 'audited'", [before["run"] or 0]).fetchone()
                return row[0]
            finally:
                con.close()
        except sqlite3.Error:
            return None
    return progress


def run_a11ycrawl(server, args, label: str, db: str, csv_rows, extra_args: list[str] = (),
                  root: str | None = None) -> RunResult:
    """One a11ycrawl audit; ``root``: run the a11ycrawl in that directory instead of this one
    (``--before``), labelled tool ``before``."""
    expected = len(server.site.pages)
    cmd = a11ycrawl_cmd(args) + ["audit", server.url, "--max-pages", str(expected + 10), "-q", "--db", db,
                                 *args.a11ycrawl_arg, *extra_args]
    if args.py_spy:
        Path(args.py_spy).mkdir(parents=True, exist_ok=True)
        ext = {"flamegraph": "svg", "speedscope": "json", "raw": "txt"}[args.py_spy_format]
        out = Path(args.py_spy) / f"{label.replace(' ', '_').replace('#', '')}.{ext}"
        cmd = ["py-spy", "record", "-r", str(args.py_spy_rate), "-f", args.py_spy_format, "-o", str(out),
               "--subprocesses", *(["--idle"] if args.py_spy_idle else []), "--"] + cmd
    env = clean_env()
    if root:
        env["PYTHONPATH"] = str(Path(root).resolve())
    print(f"  {label}: {' '.join(cmd)}" + (f"  (PYTHONPATH={env['PYTHONPATH']})" if root else ""), flush=True)
    r, code = measure(cmd, label, server, args, cwd=os.path.dirname(db), env=env,
                      timeout=args.run_timeout or 120 + 5 * expected, csv_rows=csv_rows, progress=_db_progress(db))
    r.tool, r.expected = ("before" if root else "a11ycrawl"), expected
    try:
        info = read_a11ycrawl_db(db)
    except sqlite3.Error as exc:
        info = {"run_id": None}
        r.error = (r.error or "") + f" (cannot read the db: {exc})"
    want = {_path(u) for u in server.page_urls()}
    got = set(info.get("audited_paths", []))
    r.audited = len(got & want)
    r.dropped = len(want - got)
    r.statuses = info.get("statuses", {})
    r.reused = len(info.get("reused_paths", []))
    r.extra.update({k: info.get(k) for k in ("run_id", "status", "error", "avg_load_ms", "avg_audit_ms",
                                            "avg_axe_ms", "avg_settle_ms", "settle")})
    r.extra["extra_audited"] = len(got - want)
    r.extra["dropped_sample"] = sorted(want - got)[:10]
    r.extra["_rules"] = info.get("rules", {})
    r.extra["_reused_paths"] = info.get("reused_paths", [])
    r.extra["_audited_paths"] = sorted(got)
    return r


def run_reference(server, args, n: int, label: str, workdir: str, csv_rows) -> RunResult:
    urls = server.page_urls()
    ufile = Path(workdir) / "urls.txt"
    ufile.write_text("\n".join(urls) + "\n")
    out = Path(workdir) / f"ref-{n}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "_reference", "--urls", str(ufile), "--concurrency", str(n),
           "--timeout", str(args.page_timeout), "--flags", args.reference_flags, "--out", str(out)]
    print(f"  {label}: reference loop, {n} page(s) kept open, {len(urls)} URLs, {args.reference_flags} flags", flush=True)
    r, code = measure(cmd, label, server, args, cwd=workdir, env=clean_env(),
                      timeout=args.run_timeout or 120 + 5 * len(urls), csv_rows=csv_rows)
    r.tool, r.concurrency, r.expected = "reference", n, len(urls)
    if out.is_file():
        res = json.loads(out.read_text())
        r.audited = res["audited"]
        r.dropped = len(urls) - res["audited"]
        r.statuses = {"audited": res["audited"], "failed": len(res["failures"])}
        r.extra["failures_sample"] = res["failures"][:10]
        r.extra["phases_s"] = {k: round(v, 1) for k, v in res["phases"].items()}
        r.extra["launch_s"] = round(res["launch_s"], 2)
        r.extra["_rules"] = {_path(u): set(v) for u, v in res["rules"].items()}
        out.unlink()
    else:
        r.dropped = len(urls)
        r.error = r.error or "no result file"
    return r


# ================================================================================================
# Reporting
# ================================================================================================

HEADER = (f"{'run':<24} {'audited':>7} {'dropped':>7} {'wall s':>7} {'pages/s':>7} {'CPU s/pg':>8} "
          f"{'peak MB':>7} {'PSS MB':>6} {'procs':>5} {'RSS q2->q4 MB':>14} {'others':>6}  note")


def fmt_row(r: RunResult) -> str:
    g = r.rss_growth
    growth = f"{g['q2_median_mb']}->{g['q4_median_mb']}" if g else "-"
    cpp = f"{r.cpu_per_page:.3f}" if r.audited else "-"
    note = r.error or ""
    if r.tool in ("a11ycrawl", "before"):
        bad = {k: v for k, v in r.statuses.items() if k != "audited"}
        if bad:
            note = (note + " " if note else "") + " ".join(f"{k}={v}" for k, v in sorted(bad.items()))
        if r.reused:
            note = (note + " " if note else "") + f"reused={r.reused}"
    return (f"{r.label:<24} {r.audited:>7} {r.dropped:>7} {r.wall_s:>7.1f} {r.pages_per_s:>7.2f} {cpp:>8} "
            f"{r.peak_rss_mb:>7.0f} {r.peak_pss_mb:>6.0f} {r.peak_procs:>5} {growth:>14} {r.foreign_cpu_pct:>5.0f}%  {note}")


def median_row(label: str, runs: list[RunResult]) -> dict:
    def med(f):
        vals = [f(r) for r in runs]
        return statistics.median(vals) if vals else float("nan")

    return {
        "label": label, "runs": len(runs),
        "pages_per_s": round(med(lambda r: r.pages_per_s), 3),
        "pages_per_s_all": [round(r.pages_per_s, 3) for r in runs],
        "cpu_s_per_page": round(med(lambda r: r.cpu_per_page if r.audited else float("nan")), 3),
        "cpu_rusage_s_per_page": round(med(lambda r: r.cpu_rusage_s / r.audited if r.audited else float("nan")), 3),
        "peak_rss_mb": round(med(lambda r: r.peak_rss_mb)),
        "peak_pss_mb": round(med(lambda r: r.peak_pss_mb)),
        "dropped": med(lambda r: r.dropped), "dropped_max": max(r.dropped for r in runs),
        "wall_s": round(med(lambda r: r.wall_s), 1),
        "foreign_cpu_pct": round(med(lambda r: r.foreign_cpu_pct), 1),
        "spread_pct": round(100 * (max(r.pages_per_s for r in runs) - min(r.pages_per_s for r in runs))
                            / max(1e-9, med(lambda r: r.pages_per_s)), 1) if len(runs) > 1 else 0.0,
    }


def compare_rules(a: dict[str, set], b: dict[str, set], paths: set[str]) -> dict:
    """Per page, do the two runs report the same violated rules?"""
    same = 0
    only_a: Counter = Counter()
    only_b: Counter = Counter()
    for p in paths:
        ra, rb = a.get(p, set()), b.get(p, set())
        if ra == rb:
            same += 1
        for x in ra - rb:
            only_a[x] += 1
        for x in rb - ra:
            only_b[x] += 1
    return {"pages_compared": len(paths), "same_rules": same, "only_a11ycrawl": dict(only_a.most_common(8)),
            "only_reference": dict(only_b.most_common(8))}


def planted_recall(found: dict[str, set], expected: dict[str, set], paths: set[str]) -> dict:
    missed: Counter = Counter()
    total: Counter = Counter()
    for p in paths:
        for rule in expected.get(p, ()):
            total[rule] += 1
            if rule not in found.get(p, set()):
                missed[rule] += 1
    return {"planted": dict(total), "missed": dict(missed)}


# ================================================================================================
# Browser backends (--backend)
# ================================================================================================


class PlaywrightServers:
    """``playwright run-server`` processes on 127.0.0.1 (``--unsafe``: a11ycrawl's launch options
    apply), one per node, each in a process group of its own."""

    def __init__(self, n: int):
        self.procs, self.endpoints = [], []
        for _ in range(n):
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            proc = subprocess.Popen([sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1",
                                     "--port", str(port), "--unsafe"], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, start_new_session=True)
            line = proc.stdout.readline()
            if "Listening on" not in line:
                raise SystemExit(f"bench.py: error: playwright run-server did not start: {line.strip()}")
            self.procs.append(proc)
            self.endpoints.append(f"ws://127.0.0.1:{port}/")

    def args(self) -> list[str]:
        from audits.engine.browser import find_chromium

        # the servers launch this machine's Chromium (as the README says to run them), not Playwright's own
        chromium = ["--chromium", find_chromium(environ=clean_env())]
        return [a for ep in self.endpoints for a in ("--browser-endpoint", ep)] + chromium

    def stop(self) -> None:
        for proc in self.procs:
            kill_tree(proc.pid)
            proc.wait()


class GridNodes:
    """A Selenium Grid 4 on 127.0.0.1: a hub and ``n`` nodes (tests/grid.py)."""

    def __init__(self, n: int, slots: int, work: str):
        sys.path.insert(0, str(ROOT / "tests"))
        from grid import Grid

        d = Path(work) / f"grid-{n}-{time.monotonic_ns()}"
        d.mkdir()
        self.grid = Grid(d, nodes=n, max_sessions=slots)

    def args(self) -> list[str]:
        return ["--webdriver", self.grid.url]

    def stop(self) -> None:
        self.grid.stop()


def run_backends(server, args, work: str, csv_rows, results: list) -> list[dict]:
    """Each backend at each node count: pages/s, coordinator and browser CPU per page."""
    import psutil

    rows = []
    names = [b.strip() for b in args.backend.split(",") if b.strip()]
    for name in names:
        if name not in ("local", "playwright-server", "grid"):
            raise SystemExit(f"bench.py: error: unknown backend {name!r} (local, playwright-server, grid)")
    for name in names:
        for n in [int(x) for x in str(args.nodes).split(",") if x.strip()]:
            sessions = n * args.slots
            backend = None
            if name == "playwright-server":
                backend = PlaywrightServers(n)
            elif name == "grid":
                backend = GridNodes(n, args.slots, work)
            try:
                extra = ["--concurrency", str(sessions), *(backend.args() if backend else [])]
                label = f"{name} x{n}" if backend else f"local c={sessions}"
                db = str(Path(work) / f"{name}-{n}" / "a11ycrawl.db")
                Path(db).parent.mkdir(exist_ok=True)
                r = run_a11ycrawl(server, args, label, db, csv_rows, extra)
            finally:
                if backend:
                    backend.stop()
            results.append(r)
            print("  " + fmt_row(r), flush=True)
            coordinator = sum(v for k, v in r.cpu_by_process.items() if _is_coordinator(k))
            chromium = r.cpu_s - coordinator
            others = r.foreign_cpu_pct / 100 * r.wall_s * (psutil.cpu_count() or 1)
            row = {"backend": name, "nodes": n if backend else None, "sessions": sessions, "audited": r.audited,
                   "dropped": r.dropped, "wall_s": r.wall_s, "pages_per_s": round(r.pages_per_s, 2),
                   "coordinator_cpu_s_per_page": round(coordinator / r.audited, 4) if r.audited else None,
                   "browser_cpu_s_per_page": round((chromium + others) / r.audited, 3) if r.audited else None,
                   "coordinator_by_process": {k: v for k, v in r.cpu_by_process.items() if _is_coordinator(k)},
                   "error": r.error}
            if row["coordinator_cpu_s_per_page"]:
                row["max_pages_per_s_per_coordinator_core"] = round(1 / row["coordinator_cpu_s_per_page"], 1)
            rows.append(row)
    return rows


def _is_coordinator(name: str) -> bool:
    """a11ycrawl's own processes: its Python and Playwright's Node.js driver (``node-MainThread``);
    everything else in its tree is Chromium (whose helpers may be named ``exe``)."""
    return name.lower().startswith(("python", "node"))


def print_backends(rows: list[dict]) -> None:
    print()
    print(f"{'backend':<18} {'nodes':>5} {'sessions':>8} {'audited':>7} {'pages/s':>7} {'coord CPU s/pg':>14} "
          f"{'browser CPU s/pg':>16} {'max pages/s per coord core':>26}")
    for r in rows:
        print(f"{r['backend']:<18} {r['nodes'] if r['nodes'] else '-':>5} {r['sessions']:>8} {r['audited']:>7} "
              f"{r['pages_per_s']:>7.2f} {r['coordinator_cpu_s_per_page'] or float('nan'):>14.4f} "
              f"{r['browser_cpu_s_per_page'] or float('nan'):>16.3f} "
              f"{r.get('max_pages_per_s_per_coordinator_core', float('nan')):>26}"
              + (f"  {r['error']}" if r["error"] else ""))


# ================================================================================================
# Main
# ================================================================================================


def parse_args(argv: list[str] | None):
    ap = argparse.ArgumentParser(
        description="Benchmark a11ycrawl against a bare Playwright + axe-core loop on a synthetic council site.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=300, help="pages in the synthetic site (default 300; e.g. 2000)")
    ap.add_argument("--seed", type=int, default=1, help="site seed (default 1)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each configuration; medians are reported")
    ap.add_argument("--only", choices=["reference", "a11ycrawl"], help="measure only one side")
    ap.add_argument("--concurrency", "--ref-concurrency", dest="concurrency", default="1,2,4",
                    help="pages kept open by the reference loop, comma-separated (default 1,2,4; best is taken)")
    ap.add_argument("--a11ycrawl-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for 'a11ycrawl audit' (repeatable), e.g. --a11ycrawl-arg=--concurrency=3")
    ap.add_argument("--a11ycrawl-cmd", help="command that runs a11ycrawl (default: this Python -m reports.cli)")
    ap.add_argument("--before", metavar="DIR",
                    help="also run the a11ycrawl checked out in DIR in each repetition, as 'a11ycrawl before', to "
                         "compare two versions in one invocation (e.g. git archive COMMIT | tar -x -C DIR)")
    ap.add_argument("--reaudit", action="store_true",
                    help="run a11ycrawl a second time on the same db and report the re-audit's time and speed-up")
    ap.add_argument("--mutate", metavar="KINDS",
                    help="with --reaudit: after the unchanged re-audit, change the site and audit again, for each of "
                         "these comma-separated kinds in turn (page, script, forms-script, style, image), checking "
                         "that affected pages were re-rendered and the new violation found")
    ap.add_argument("--rule-timing", type=int, default=0, metavar="N",
                    help="also time N pages one by one: tree CPU of load / inject / axe, and axe's per-rule timers")
    ap.add_argument("--page-timeout", type=float, default=30.0, help="reference loop: seconds per step (default 30)")
    ap.add_argument("--run-timeout", type=float, default=0, help="seconds before a run is killed (default 120+5/page)")
    ap.add_argument("--sample-interval", type=float, default=0.5, help="psutil sampling period (default 0.5 s)")
    ap.add_argument("--mem-interval", type=float, default=5.0, help="print tree memory every S seconds (0: never)")
    ap.add_argument("--pss-interval", type=float, default=5.0,
                    help="also sum PSS of the tree every S seconds (reads smaps_rollup, ~5 ms/process; 0: never)")
    ap.add_argument("--memory-csv", metavar="FILE", help="write every memory/CPU sample of every run to FILE")
    ap.add_argument("--quiet-progress", action="store_true", help="do not print memory at intervals")
    ap.add_argument("--no-warmup", action="store_true", help="skip the short unmeasured warm-up run")
    ap.add_argument("--reference-flags", choices=["brief", "tuned"], default="brief",
                    help="reference loop's Chromium flags: the brief's plain set (default) or a11ycrawl's tuned set")
    ap.add_argument("--chromium", metavar="PATH",
                    help="browser for both a11ycrawl and the reference (default: a11ycrawl's own lookup)")
    ap.add_argument("--json", dest="json_file", metavar="FILE", help="save every figure as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (databases)")
    ap.add_argument("--py-spy", metavar="DIR", help="profile a11ycrawl runs with 'py-spy record --subprocesses' into DIR "
                                                   "(profiling costs CPU: figures of those runs are not comparable)")
    ap.add_argument("--py-spy-format", choices=["flamegraph", "speedscope", "raw"], default="raw")
    ap.add_argument("--py-spy-rate", type=int, default=100)
    ap.add_argument("--py-spy-idle", action="store_true", help="also sample idle threads (waits)")
    ap.add_argument("--backend", metavar="NAMES",
                    help="compare browser backends instead (comma-separated: local, playwright-server, grid); "
                         "a11ycrawl only")
    ap.add_argument("--nodes", default="1,2", help="with --backend: node counts to run, comma-separated (default 1,2)")
    ap.add_argument("--slots", type=int, default=2, help="with --backend: browser slots per node (default 2)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_reference":
        return reference_main(argv[1:])
    if argv and argv[0] == "_ruletiming":
        return rule_timing_main(argv[1:])
    args = parse_args(argv)
    if args.pages < 30:
        raise SystemExit("bench.py: error: --pages must be at least 30 (the synthetic site's fixed pages)")
    if args.chromium:
        CHROMIUM_OVERRIDE[:] = [args.chromium]
    from sitegen import SiteServer, build_site

    ns = [int(x) for x in str(args.concurrency).split(",") if x.strip()]
    t_build = time.monotonic()
    site = build_site(args.pages, args.seed)
    sizes = [len(b) for b in site.pages.values()]
    work = tempfile.mkdtemp(prefix="a11ybench-")
    csv_rows: list | None = [] if args.memory_csv else None
    results: list[RunResult] = []
    reaudits: list[dict] = []
    backend_rows: list[dict] = []
    rule_timing: dict | None = None
    import platform

    import psutil

    print(f"a11ycrawl benchmark: {args.pages} pages (seed {args.seed}, {sum(sizes) / MB:.1f} MB of HTML, "
          f"{min(sizes) // 1024}-{max(sizes) // 1024} KB per page, built in {time.monotonic() - t_build:.1f} s); "
          f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GB; Python {platform.python_version()}; "
          f"load avg {os.getloadavg()[0]:.2f}", flush=True)
    print(f"browser: {_browser_line()}", flush=True)
    try:
        with SiteServer(site) as server:
            print(f"serving on {server.url}  (work dir {work})", flush=True)
            if not args.no_warmup and args.only != "a11ycrawl":
                print("warm-up (not measured): reference loop over 15 pages", flush=True)
                warm = argparse.Namespace(**{**vars(args), "quiet_progress": True})
                run_reference(_Subset(server, 15), warm, 1, "warm-up", work, None)
            elif not args.no_warmup:
                print("warm-up (not measured): a11ycrawl over 15 pages", flush=True)
                warm = argparse.Namespace(**{**vars(args), "quiet_progress": True, "py_spy": None})
                run_a11ycrawl(server, warm, "warm-up", str(Path(work) / "warm.db"), None, ["--max-pages", "15"])
            if args.rule_timing:
                rule_timing = run_rule_timing(server, args, work)
            if args.backend:
                backend_rows = run_backends(server, args, work, csv_rows, results)
            for rep in range(1, 0 if args.backend else args.repeat + 1):
                if args.only != "reference":
                    db = str(Path(work) / f"a11ycrawl-{rep}" / "a11ycrawl.db")
                    Path(db).parent.mkdir()
                    r = run_a11ycrawl(server, args, f"a11ycrawl #{rep}", db, csv_rows)
                    results.append(r)
                    print("  " + fmt_row(r), flush=True)
                    if args.reaudit:
                        reaudits.append(do_reaudit(server, args, rep, db, r, csv_rows))
                if args.before and args.only != "reference":
                    db = str(Path(work) / f"before-{rep}" / "a11ycrawl.db")
                    Path(db).parent.mkdir()
                    r = run_a11ycrawl(server, args, f"a11ycrawl before #{rep}", db, csv_rows, root=args.before)
                    results.append(r)
                    print("  " + fmt_row(r), flush=True)
                if args.only != "a11ycrawl":
                    for n in ns:
                        r = run_reference(server, args, n, f"reference N={n} #{rep}", work, csv_rows)
                        results.append(r)
                        print("  " + fmt_row(r), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    if args.backend:
        summary = {"backends": backend_rows}
        print_backends(backend_rows)
    else:
        summary = report(results, reaudits, site, args)
    if rule_timing:
        summary["rule_timing"] = rule_timing
        print_rule_timing(rule_timing)
    if args.memory_csv and csv_rows is not None:
        with open(args.memory_csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["run", "t", "rss_mb", "pss_mb", "procs", "cpu_s", "pages"])
            w.writeheader()
            w.writerows(csv_rows)
        print(f"memory samples: {args.memory_csv}")
    if args.json_file:
        doc = {"args": vars(args), "site": {"pages": args.pages, "seed": args.seed, "digest": site.digest()},
               "machine": {"cpus": psutil.cpu_count(), "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
                           "python": platform.python_version(), "loadavg_end": os.getloadavg()},
               "runs": [_public(r.row()) for r in results], "reaudits": reaudits, **summary}
        Path(args.json_file).write_text(json.dumps(doc, indent=2, default=list) + "\n")
        print(f"figures saved to {args.json_file}")
    failed = any(r.error for r in results)
    return 1 if failed else 0


def _public(d: dict) -> dict:
    d = dict(d)
    d["extra"] = {k: v for k, v in d.get("extra", {}).items() if not k.startswith("_")}
    return d


class _Subset:
    """A server view that offers only the first ``n`` page URLs (warm-up)."""

    def __init__(self, server, n: int):
        self._s, self._n = server, n

    def __getattr__(self, name):
        return getattr(self._s, name)

    def page_urls(self):
        return self._s.page_urls()[: self._n]


def run_rule_timing(server, args, work: str) -> dict | None:
    urls = server.page_urls()
    step = max(1, len(urls) // args.rule_timing)
    sample = urls[::step][: args.rule_timing]
    ufile = Path(work) / "rule-urls.txt"
    ufile.write_text("\n".join(sample) + "\n")
    out = Path(work) / "rule-timing.json"
    print(f"rule timing: {len(sample)} pages, one at a time", flush=True)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_ruletiming", "--urls", str(ufile),
                           "--out", str(out)], env=clean_env(), cwd=work, capture_output=True, text=True,
                          timeout=60 + 30 * len(sample))
    if proc.returncode != 0 or not out.is_file():
        print("  rule timing failed: " + proc.stderr.strip()[-500:], flush=True)
        return None
    return json.loads(out.read_text())


def print_rule_timing(rt: dict) -> None:
    c, w = rt["cpu_ms_per_page"], rt["wall_ms_per_page"]
    print(f"\nWhere a page's time goes (reference steps, one page at a time, {rt['pages']} pages): "
          f"tree CPU load {c['load']} ms, inject {c['inject']} ms, axe.run {c['axe']} ms; "
          f"wall load {w['load']} ms, inject {w['inject']} ms, axe.run {w['axe']} ms")
    rules = rt["rule_ms_per_page"]
    total = sum(rules.values()) or 1
    top = list(rules.items())[:12]
    print("axe rules by time (ms per page, axe's performanceTimer): "
          + ", ".join(f"{k} {v:g} ({100 * v / total:.0f}%)" for k, v in top))


def do_reaudit(server, args, rep: int, db: str, first: RunResult, csv_rows) -> dict:
    """Second a11ycrawl run on the same db (unchanged site), then one more run after each mutation."""
    r2 = run_a11ycrawl(server, args, f"a11ycrawl re-audit #{rep}", db, csv_rows)
    print("  " + fmt_row(r2), flush=True)
    out = {"first_wall_s": first.wall_s, "second_wall_s": r2.wall_s,
           "speedup": round(first.wall_s / r2.wall_s, 2) if r2.wall_s else None,
           "second": _public(r2.row()), "reused": r2.reused, "dropped": r2.dropped,
           "browser_page_loads": r2.server_requests.get("page_requests_browser", 0),
           "crawler_page_fetches": r2.server_requests.get("page_requests_other", 0),
           "status_304": r2.server_requests.get("status_304", 0), "mutations": []}
    kinds = [k for k in (args.mutate or "").split(",") if k]
    for kind in kinds:
        # mutations accumulate: each run is compared with the run before it, which saw the earlier ones
        mutation = server.site.mutate(kind)
        print(f"  mutated the site: {mutation['what']} ({len(mutation['affected'])} pages affected)", flush=True)
        r3 = run_a11ycrawl(server, args, f"a11ycrawl after {kind} #{rep}", db, csv_rows)
        print("  " + fmt_row(r3), flush=True)
        affected = set(mutation["affected"])
        reused = set(r3.extra["_reused_paths"])
        audited = set(r3.extra["_audited_paths"])
        rerendered = audited - reused
        rules = r3.extra["_rules"]
        rule = {"page": "image-alt", "script": "image-alt", "forms-script": "label", "style": "color-contrast"}.get(kind)
        out["mutations"].append({
            "kind": kind, "what": mutation["what"], "affected": len(affected), "wall_s": r3.wall_s,
            "dropped": r3.dropped, "reused": len(reused),
            "affected_but_reused": sorted(affected & reused)[:20], "affected_but_reused_count": len(affected & reused),
            "rerendered": len(rerendered), "rerendered_unaffected": len(rerendered - affected),
            "new_rule": rule, "new_rule_found_on": (sum(1 for p in affected if rule in rules.get(p, set())) if rule else None),
        })
    if kinds:  # put the site back the way it was for later runs
        from sitegen import build_site

        fresh = build_site(args.pages, args.seed)
        with server.site.lock:
            server.site.pages, server.site.assets, server.site.expected = fresh.pages, fresh.assets, fresh.expected
    return out


def report(results: list[RunResult], reaudits: list[dict], site, args) -> dict:
    print()
    print(f"Results: {args.pages} pages, repeat {args.repeat}  (CPU s/pg: user+sys of the whole tree, psutil every "
          f"{args.sample_interval} s, last-seen per process; peak MB: max over samples of the summed RSS of the tree; "
          f"PSS MB: the same with proportional set size (shared pages split), sampled every {args.pss_interval} s; "
          f"RSS q2->q4: median tree RSS in the 2nd and 4th quarters of the run; others: CPU used by other processes "
          f"on the machine during the run, % of all cores)")
    print(HEADER)
    for r in results:
        print(fmt_row(r))
    groups: dict[str, list[RunResult]] = {}
    for r in results:
        key = {"a11ycrawl": "a11ycrawl", "before": "a11ycrawl before"}.get(r.tool, f"reference N={r.concurrency}")
        groups.setdefault(key, []).append(r)
    medians = {k: median_row(k, v) for k, v in groups.items()}
    print()
    print(f"Medians ({args.repeat} run{'s' if args.repeat > 1 else ''} each)")
    print(f"{'':<24} {'pages/s':>8} {'CPU s/pg':>9} {'peak MB':>8} {'PSS MB':>7} {'dropped':>8} {'wall s':>7} {'spread':>7} {'others':>7}")
    for k, m in medians.items():
        print(f"{k:<24} {m['pages_per_s']:>8.2f} {m['cpu_s_per_page']:>9.3f} "
              f"{m['peak_rss_mb']:>8} {m['peak_pss_mb']:>7} {m['dropped']:>8g} {m['wall_s']:>7.1f} {m['spread_pct']:>6.1f}% {m['foreign_cpu_pct']:>6.0f}%")
    summary: dict = {"medians": medians}
    refs = {k: m for k, m in medians.items() if k.startswith("reference")}
    if refs:
        best_k = max(refs, key=lambda k: refs[k]["pages_per_s"])
        summary["best_reference"] = best_k
        if "a11ycrawl" in medians and refs[best_k]["pages_per_s"]:
            ratio = medians["a11ycrawl"]["pages_per_s"] / refs[best_k]["pages_per_s"]
            summary["ratio_pages_per_s"] = round(ratio, 3)
            cpu_ratio = medians["a11ycrawl"]["cpu_s_per_page"] / refs[best_k]["cpu_s_per_page"] \
                if refs[best_k]["cpu_s_per_page"] else float("nan")
            summary["ratio_cpu_per_page"] = round(cpu_ratio, 3)
            print(f"\nratio a11ycrawl / best reference ({best_k}): pages/s {ratio:.2f}x   CPU per page {cpu_ratio:.2f}x")
            if "a11ycrawl before" in medians:
                before = medians["a11ycrawl before"]["pages_per_s"] / refs[best_k]["pages_per_s"]
                summary["ratio_pages_per_s_before"] = round(before, 3)
                print(f"ratio a11ycrawl before ({args.before}) / best reference: pages/s {before:.2f}x")
            # paired: each repetition's a11ycrawl run against the best reference run of the same repetition
            # (adjacent in time, so slow drifts of the machine's load cancel out better)
            paired = []
            per_rep: dict[int, dict[str, RunResult]] = {}
            for r in results:
                rep = int(r.label.rsplit("#", 1)[-1]) if "#" in r.label else 0
                per_rep.setdefault(rep, {})[r.label] = r
            for rep, runs in sorted(per_rep.items()):
                a = [r for r in runs.values() if r.tool == "a11ycrawl"]
                b = [r for r in runs.values() if r.tool == "reference" and r.pages_per_s]
                if a and b:
                    paired.append(round(a[0].pages_per_s / max(x.pages_per_s for x in b), 3))
            if paired:
                summary["paired_ratios"] = paired
                summary["paired_ratio_median"] = statistics.median(paired)
                print(f"paired ratio per repetition (a11ycrawl / best reference of the same repetition): "
                      f"{', '.join(f'{x:.2f}' for x in paired)}; median {statistics.median(paired):.2f}x")
    # findings agreement and planted violations
    a_runs = [r for r in results if r.tool == "a11ycrawl" and r.extra.get("_rules") is not None]
    ref_runs = [r for r in results if r.tool == "reference" and r.extra.get("_rules")]
    paths = set(site.pages)
    if a_runs and ref_runs:
        a, b = a_runs[-1], max(ref_runs, key=lambda r: r.audited)
        both = set(a.extra["_audited_paths"]) & set(b.extra["_rules"])
        cmp = compare_rules(a.extra["_rules"], b.extra["_rules"], both)
        summary["rules_agreement"] = cmp
        print(f"violated rules per page, a11ycrawl vs reference: same on {cmp['same_rules']}/{cmp['pages_compared']} pages"
              + (f"; only a11ycrawl: {cmp['only_a11ycrawl']}" if cmp["only_a11ycrawl"] else "")
              + (f"; only reference: {cmp['only_reference']}" if cmp["only_reference"] else ""))
    for runs, name in ((a_runs, "a11ycrawl"), (ref_runs, "reference")):
        if runs:
            r = runs[-1]
            rec = planted_recall(r.extra["_rules"], site.expected,
                                 set(r.extra.get("_audited_paths") or r.extra["_rules"]) & paths)
            summary.setdefault("planted_recall", {})[name] = rec
            found = Counter(x for v in r.extra["_rules"].values() for x in v)
            summary.setdefault("rules_found", {})[name] = dict(found.most_common())
            print(f"violated rules found by {name} (pages): " + ", ".join(f"{k} {v}" for k, v in found.most_common()))
            if rec["missed"]:
                print(f"planted violations missed by {name}: {rec['missed']} (of {rec['planted']})")
    for r in results:
        if r.tool == "reference" and r.extra.get("phases_s"):
            ph = r.extra["phases_s"]
            n = max(1, r.audited)
            print(f"{r.label}: per page goto {1000 * ph.get('goto', 0) / n:.0f} ms, inject {1000 * ph.get('inject', 0) / n:.0f} ms, "
                  f"axe.run {1000 * ph.get('axe', 0) / n:.0f} ms (wall, summed over {r.concurrency} page(s)); launch "
                  f"{r.extra.get('launch_s')} s")
        if r.tool in ("a11ycrawl", "before") and r.extra.get("avg_audit_ms") is not None:
            e = r.extra
            print(f"{r.label}: per page load {e['avg_load_ms'] or 0:.0f} ms, settle {e['avg_settle_ms'] or 0:.0f} ms, "
                  f"axe {e['avg_axe_ms'] or 0:.0f} ms, whole audit {e['avg_audit_ms'] or 0:.0f} ms (from its db); "
                  f"server saw {r.server_requests.get('page_requests_browser', 0)} browser page loads, "
                  f"{r.server_requests.get('page_requests_other', 0)} crawler page fetches")
            st = e.get("settle") or {}
            if st:
                print(f"{r.label}: settle per page median {st['median_ms']:g} ms, p95 {st['p95_ms']} ms, max {st['max_ms']} ms; "
                      f"{st['at_once']} of {st['pages']} pages settled at once, {st['unsettled']} audited at the cap; "
                      "waited for: " + (", ".join(f"{k} {v}" for k, v in st["waited_for"].items()) or "nothing"))
        if r.cpu_by_process:
            top = ", ".join(f"{k} {v}" for k, v in list(r.cpu_by_process.items())[:5])
            print(f"{r.label}: CPU s by process name: {top}; HTTP server {r.server_cpu_s} s")
    if reaudits:
        print("\nRe-audit on the same db:")
        for i, x in enumerate(reaudits, 1):
            line = (f"  #{i}: first {x['first_wall_s']:.1f} s, second {x['second_wall_s']:.1f} s -> speed-up "
                    f"{x['speedup']}x; reused {x['reused']}, dropped {x['dropped']}, browser page loads "
                    f"{x['browser_page_loads']}, crawler fetches {x['crawler_page_fetches']} ({x['status_304']} answered 304)")
            print(line)
            for m in x.get("mutations", []):
                ok = "OK" if m["affected_but_reused_count"] == 0 and (m["new_rule"] is None or m["new_rule_found_on"] == m["affected"]) else "WRONG"
                print(f"      after {m['what']}: {m['wall_s']:.1f} s; {m['affected']} pages affected, "
                      f"{m['affected_but_reused_count']} of them wrongly reused; {m['rerendered']} re-rendered "
                      f"({m['rerendered_unaffected']} unaffected); "
                      + (f"new {m['new_rule']} found on {m['new_rule_found_on']}/{m['affected']} affected pages; " if m["new_rule"] else "")
                      + f"dropped {m['dropped']}  -> {ok}")
        sp = [x["speedup"] for x in reaudits if x["speedup"]]
        if sp:
            summary["reaudit_speedup_median"] = statistics.median(sp)
    print(f"\nmachine: {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.2f}")
    return summary


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.exit(130)
