"""a11ycrawl at home in CI and cron: the GitHub Action's script run as a runner runs it, the GitLab
template's commands, the crontab line and the systemd unit as written (with a shim for the
installed command), the container definition; stable page names for `check --dir` (two runs give
byte-identical JUnit and SARIF); progress lines when stderr is a file; Ctrl-C still writes a
complete --json; stuck runs are reported and can be closed; checks of arguments before the audit.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from audits.engine.browser import find_chromium
from helpers import N, STATIC, assert_valid_sarif, audited_count, run_cli, site_routes

ROOT = Path(__file__).resolve().parent.parent


def build_site(where: Path) -> Path:
    public = where / "public"
    for name, body in STATIC.items():
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_text(body)
    return public


def no_ports(text: str) -> bool:
    return re.search(r"127\.0\.0\.1:\d+", text) is None


# -- stable names for check --dir ----------------------------------------------------------------------

@pytest.mark.browser
def test_check_dir_twice_gives_byte_identical_junit_and_sarif_named_by_path(tmp_path):
    """The same build checked twice (same database, so run 1 then run 2, and another port each
    time): JUnit and SARIF are byte-identical; no output names the temporary server."""
    build_site(tmp_path)
    outs = {}
    for n in ("a", "b"):
        summary = tmp_path / f"{n}-summary.md"
        res = run_cli("check", "--dir", "public", "--exclude", "/nowhere/", "--max-time", "600",
                      "--junit", f"{n}/junit.xml", "--sarif", f"{n}/a11y.sarif", "--json", f"{n}/run.json",
                      "--exit-zero", cwd=tmp_path, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
        assert res.returncode == 0, res.stderr
        outs[n] = res
    a, b = tmp_path / "a", tmp_path / "b"
    assert (a / "junit.xml").read_bytes() == (b / "junit.xml").read_bytes()
    assert (a / "a11y.sarif").read_bytes() == (b / "a11y.sarif").read_bytes()
    assert outs["a"].stdout == outs["b"].stdout  # the annotations
    for text in ((a / "junit.xml").read_text(), (a / "a11y.sarif").read_text(), outs["a"].stdout,
                 (tmp_path / "a-summary.md").read_text(), (a / "run.json").read_text()):
        assert no_ports(text), text
    names = [c.get("name") for c in ET.parse(a / "junit.xml").getroot().iter("testcase")
             if c.get("classname") == "a11ycrawl.pages"]
    assert names == sorted(names) and {"/", "/about", "/docs/"} <= set(names)
    log = json.loads((a / "a11y.sarif").read_text())
    assert_valid_sarif(log)
    assert "::error file=public/about.html,line=1" in outs["a"].stdout
    doc = json.loads((a / "run.json").read_text())
    assert doc["run"]["start_url"] == "/" and doc["run"]["config"]["start_url"] == "/"
    assert {p["url"] for p in doc["pages"]} >= {"/", "/about", "/docs/"}
    assert json.loads((b / "run.json").read_text())["run"]["id"] == doc["run"]["id"] + 1


def test_check_checks_its_arguments_before_auditing(tmp_path):
    """--baseline with a run that does not exist, an output path that cannot be written and a
    missing ignore file fail at once (exit 2, one line), before any run is stored."""
    from audits.store import open_store

    build_site(tmp_path)
    open_store(tmp_path / "a.db").close()
    (tmp_path / "a-file").write_text("not a folder")
    cases = [
        (["--baseline", "999"], "no run 999 in"),
        (["--junit", "a-file/junit.xml"], "--junit a-file/junit.xml: cannot create the folder a-file"),
        (["--sarif", "public/docs"], "Invalid value for '--sarif'"),
        (["--ignore-file", "missing.toml"], "missing.toml"),
    ]
    for args, message in cases:
        started = time.monotonic()
        res = run_cli("check", "--dir", "public", "--db", "a.db", *args, cwd=tmp_path)
        assert res.returncode == 2, res.stderr
        assert message in res.stderr and res.stderr.startswith("a11ycrawl: error:"), res.stderr
        assert time.monotonic() - started < 30
    con = sqlite3.connect(tmp_path / "a.db")
    assert con.execute("select count(*) from runs").fetchone()[0] == 0  # nothing was audited
    con.close()


def test_site_paths_rename_only_the_temporary_server():
    from reports.ci import site_path

    root = "http://127.0.0.1:46789/"
    assert site_path("http://127.0.0.1:46789/contact.html", root) == "/contact.html"
    assert site_path("http://127.0.0.1:46789/", root) == "/"
    assert site_path("http://127.0.0.1:36337/contact.html", root) == "http://127.0.0.1:36337/contact.html"
    assert site_path("https://example.org/", root) == "https://example.org/"


# -- progress -------------------------------------------------------------------------------------------

def test_progress_line_keeps_counts_rate_and_eta_at_80_columns():
    from reports.terminal import ProgressFigures

    f = ProgressFigures(start=0.0, budget=500)
    f.update(30.0, {"discovered": 812, "audited": 140, "failed": 3, "skipped": 12, "documents": 4, "reused": 0})
    f.update(60.0, {"discovered": 812, "audited": 200, "failed": 3, "skipped": 12, "documents": 4, "reused": 0})
    for width in (80, 60, 46):
        line = f.line("Northbrook District Council (www.northbrook.example.gov.uk)", 60.0, width).plain
        assert len(line) <= width, line
        assert "203/500 pages" in line and "3 failed" in line  # the budget caps what is left to do
        assert "3.4/s" in line and "ETA 1m28s" in line, line
    assert "Northbrook" in f.line("Northbrook District Council", 60.0, 80).plain
    plain = f.plain("Northbrook", 60.0)
    assert plain == ("a11ycrawl: Northbrook: 203/500 pages done (200 audited, 3 failed, 0 reused; 12 skipped, "
                     "4 documents), 3.4/s, ETA 1m28s, elapsed 1m00s")


def test_plain_progress_every_interval_when_stderr_is_not_a_terminal():
    from rich.console import Console

    from reports.terminal import RunProgress

    now = [100.0]
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert not console.is_terminal
    p = RunProgress(console, "site", clock=lambda: now[0], interval=30, budget=None)
    p._beat = lambda: None  # the test is the clock: no background thread
    with p:
        for t in range(1, 100):
            now[0] = 100.0 + t
            p.update(discovered=100, audited=t // 2, failed=0, skipped=0, documents=0, reused=0)
    progress = out.getvalue().splitlines()
    assert len(progress) == 3  # at 30, 60 and 90 seconds, nothing else
    assert progress[0].startswith("a11ycrawl: site: 15/100 pages done") and "ETA 2m50s" in progress[0]


def test_live_progress_on_an_80_column_terminal():
    from rich.console import Console

    from reports.terminal import RunProgress

    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    now = [0.0]
    with RunProgress(console, "www.northbrook.example.gov.uk", clock=lambda: now[0], budget=500) as p:
        for t in range(1, 20):
            now[0] = float(t)
            p.update(discovered=300, audited=2 * t, failed=1, skipped=0, documents=0, reused=0)
        console.file.flush()
        p._live.refresh()
    frames = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", f) for f in re.split(r"[\r\n]", out.getvalue())]
    shown = [f for f in frames if "pages" in f]
    assert shown and all(len(f.rstrip()) <= 80 for f in shown)
    assert "39/300 pages" in shown[-1] and "2.1/s" in shown[-1] and "ETA 2m" in shown[-1], shown[-1]


@pytest.mark.browser
def test_ctrl_c_during_audit_json_leaves_a_complete_file_and_progress_in_the_log(serve, tmp_path):
    """stderr to a file: progress lines every second (A11YCRAWL_PROGRESS_INTERVAL); Ctrl-C: exit 130
    and a valid --json with every URL the run knew of, each once, those left marked interrupted."""
    server = serve(site_routes())
    db = str(tmp_path / "r.db")
    with open(tmp_path / "stderr.log", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reports.cli", "audit", server.url, "--db", db, "--concurrency", "1",
             "--no-sitemaps", "--json", "out/run.json"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=err,
            env={**os.environ, "A11YCRAWL_PROGRESS_INTERVAL": "1"}, start_new_session=True)
        deadline = time.monotonic() + 180
        while audited_count(db) < 6:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.2)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=90)
    assert proc.returncode == 130
    log = (tmp_path / "stderr.log").read_text()
    assert re.search(r"a11ycrawl: 127\.0\.0\.1:\d+: \d+/\d+ pages done .* ETA", log), log
    doc = json.loads((tmp_path / "out" / "run.json").read_text())
    assert doc["run"]["status"] == "incomplete" and doc["run"]["error"] == "interrupted"
    urls = [p["url"] for p in doc["pages"]]
    assert len(urls) == len(set(urls))
    assert {server.url} | {f"{server.origin}/p{i}" for i in range(N)} <= set(urls)
    left = [p for p in doc["pages"] if p["reason_code"] == "interrupted"]
    assert left and all(p["status"] == "skipped" for p in left)
    audited = [p for p in doc["pages"] if p["status"] == "audited"]
    assert 6 <= len(audited) < N + 1
    assert doc["run"]["counts"]["skipped"] == sum(p["status"] == "skipped" for p in doc["pages"])
    # the export of the stored run says the same
    res = run_cli("export", "--format", "json", "--run", str(doc["run"]["id"]), "--db", db, "-o", "-", cwd=tmp_path)
    assert {p["url"] for p in json.loads(res.stdout)["pages"]} == set(urls)


@pytest.mark.browser
def test_a_stuck_run_is_reported_and_can_be_closed_and_reuse_is_counted(serve, tmp_path):
    from audits.store import open_store
    from fixture_site import page
    from audits.engine.static_server import Reply

    server = serve({"/": Reply(body=page("Home", "<p>Hello</p>")), "/robots.txt": Reply(404)})
    db = tmp_path / "s.db"
    store = open_store(db)
    site = server.origin.split("//")[1]
    stuck = store.create_run(site=site, start_url=server.url, tool_version="0", axe_version="4.12.1",
                             config={}, config_hash="x", max_pages=5)  # a run killed outright: still "running"
    store.close()
    first = run_cli("audit", server.url, "--db", str(db), "--no-sitemaps", "--max-pages", "3", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    text = " ".join(first.stderr.split())
    assert f"run {stuck} of {site}" in text and "still marked running" in text
    assert f"a11ycrawl audit {server.url} --resume" in text and f"a11ycrawl close {stuck}" in text
    closed = run_cli("close", str(stuck), "--db", str(db), cwd=tmp_path)
    assert closed.returncode == 0, closed.stderr
    assert f"Closed run {stuck}" in closed.stderr
    con = sqlite3.connect(db)
    assert con.execute("select status from runs where id = ?", [stuck]).fetchone()[0] == "incomplete"
    con.close()
    again = run_cli("close", str(stuck), "--db", str(db), cwd=tmp_path)
    assert again.returncode == 2 and "not running: nothing to close" in again.stderr
    second = run_cli("audit", server.url, "--db", str(db), "--no-sitemaps", "--max-pages", "3", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "still marked running" not in second.stderr
    assert "Reused 1 of 1 audited pages unchanged" in " ".join(second.stderr.split())


# -- the GitHub Action -------------------------------------------------------------------------------

def fake_tools(where: Path) -> tuple[Path, Path]:
    """apt-get, sudo and pip that only note that they were called (the tests must not install)."""
    bin_dir = where / "fake-bin"
    bin_dir.mkdir()
    calls = where / "installer-calls.txt"
    for name in ("apt-get", "sudo", "pip", "pip3"):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\nexit 1\n')
        (bin_dir / name).chmod(0o755)
    return bin_dir, calls


def action_env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    bin_dir, _ = fake_tools(tmp_path) if not (tmp_path / "fake-bin").exists() else (tmp_path / "fake-bin", None)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update({
        "PATH": f"{bin_dir}:{env['PATH']}", "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_WORKSPACE": str(tmp_path), "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output.txt"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "A11YCRAWL_ACTION_PYTHON": sys.executable, "A11YCRAWL_CHROMIUM": find_chromium(),
        # as action.yml passes them: every input, empty when not given
        **{f"INPUT_{k}": "" for k in ("URL", "URLS", "SITEMAP", "DIR", "MIN_SCORE", "MAX_CRITICAL", "MAX_SERIOUS",
                                      "MAX_MODERATE", "MAX_MINOR", "BASELINE", "IGNORE_FILE", "CONFIG", "MAX_PAGES",
                                      "MAX_TIME", "INCLUDE", "EXCLUDE", "JSON", "DB", "ARGS")},
        "INPUT_SARIF": "a11ycrawl.sarif", "INPUT_JUNIT": "a11ycrawl-junit.xml", "INPUT_HTML": "a11ycrawl-report.html",
        "INPUT_EXIT_ZERO": "false",
    })
    (tmp_path / "runner-temp").mkdir(exist_ok=True)
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return env


def run_action(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "action-check.sh")], cwd=tmp_path,
                          env=action_env(tmp_path, **inputs), capture_output=True, text=True, timeout=300)


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "github-output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.browser
def test_the_actions_script_as_a_runner_runs_it(tmp_path):
    build_site(tmp_path)
    res = run_action(tmp_path, dir="public", max_critical="0", exclude="/nowhere/\n/never/", json="out/run.json")
    assert res.returncode == 1, res.stderr  # the gate failed: one critical failure (image-alt on /about)
    out = outputs(tmp_path)
    assert out["result"] == "failed" and out["exit-code"] == "1"
    assert out["sarif"] == str(tmp_path / "a11ycrawl.sarif") and Path(out["sarif"]).is_file()
    assert Path(out["junit"]).is_file() and Path(out["html"]).is_file()
    assert Path(out["json"]) == tmp_path / "out" / "run.json"
    assert "a11ycrawl check FAILED" in (tmp_path / "summary.md").read_text()
    assert "::error file=public/about.html,line=1,title=a11ycrawl%3A image-alt (critical)" in res.stdout
    assert "not installing" in res.stderr and f"Chromium: {find_chromium()}" in res.stderr
    assert "--exclude /nowhere/ --exclude /never/" in res.stderr
    assert not (tmp_path / "installer-calls.txt").exists()  # no apt-get, sudo or pip
    assert_valid_sarif(json.loads(Path(out["sarif"]).read_text()))


def test_the_actions_script_refuses_two_targets_and_an_old_python(tmp_path):
    res = run_action(tmp_path, dir="public", url="https://example.org/")
    assert res.returncode == 2
    assert "::error title=a11ycrawl action::give exactly one of the inputs url, urls, sitemap and dir" in res.stdout
    assert outputs(tmp_path)["result"] == "error"
    assert "could not run" in (tmp_path / "summary.md").read_text()
    fake = tmp_path / "python3.9"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    env = action_env(tmp_path, dir="public")
    env["A11YCRAWL_ACTION_PYTHON"] = str(fake)
    res = subprocess.run(["bash", str(ROOT / "scripts" / "action-check.sh")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "needs Python 3.11 or newer" in res.stdout


def test_action_yml_passes_every_input_to_the_script():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    setup, check, upload = steps
    assert setup["uses"].startswith("actions/setup-python@") and setup["with"]["update-environment"] is False
    assert check["run"] == 'bash "$GITHUB_ACTION_PATH/scripts/action-check.sh"'
    script = (ROOT / "scripts" / "action-check.sh").read_text()
    for name in action["inputs"]:
        if name in ("upload-sarif", "sarif-category", "working-directory", "python-version"):
            continue
        var = "INPUT_" + name.upper().replace("-", "_")
        assert check["env"][var] == "${{ inputs.%s }}" % name
        assert var in script or var in ("INPUT_SARIF", "INPUT_JUNIT", "INPUT_HTML", "INPUT_JSON"), var
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "always()" in upload["if"] and upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif }}"
    for out in ("result", "exit-code", "sarif", "junit", "html", "json"):
        assert action["outputs"][out]["value"] == "${{ steps.check.outputs.%s }}" % out


# -- the examples, as a fresh runner or cron would run them ----------------------------------------------

def test_examples_install_from_the_repository_never_by_index_name():
    for path in (ROOT / "examples").rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        assert not re.search(r"pip3? install\s+(--\S+\s+)*a11ycrawl\b", text), path
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["a11y"]["steps"]
    (check,) = [s for s in steps if s.get("id") == "a11y"]
    assert check["uses"].startswith("a11ycrawl/a11ycrawl@") and check["with"]["dir"] == "public"
    assert workflow["permissions"]["security-events"] == "write"
    gitlab = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())
    assert gitlab["include"][0]["remote"].endswith("/ci/a11ycrawl.gitlab-ci.yml")
    assert gitlab["a11y"]["extends"] == ".a11ycrawl"
    template = yaml.safe_load((ROOT / "ci" / "a11ycrawl.gitlab-ci.yml").read_text())
    job = template[".a11ycrawl"]
    assert job["artifacts"]["reports"]["junit"] == "a11ycrawl-junit.xml"
    assert job["variables"]["A11YCRAWL_SOURCE"].startswith("git+https://")


def shim(where: Path) -> Path:
    """An installed `a11ycrawl` command (as pip would make it), running this checkout."""
    path = where / "bin" / "a11ycrawl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m reports.cli "$@"\n')
    path.chmod(0o755)
    return path


@pytest.mark.browser
def test_the_gitlab_templates_commands_run_as_written(tmp_path):
    """before_script then script, in one shell as GitLab runs them; `a11ycrawl` already installed
    (as in the container image), so nothing is installed."""
    template = yaml.safe_load((ROOT / "ci" / "a11ycrawl.gitlab-ci.yml").read_text())[".a11ycrawl"]
    build_site(tmp_path)
    bin_dir, calls = fake_tools(tmp_path)
    command = shim(tmp_path)
    script = "set -e\n" + "\n".join(template["before_script"] + template["script"])
    env = {"PATH": f"{command.parent}:{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path),
           "A11YCRAWL_CHROMIUM": find_chromium(), **{k: str(v) for k, v in template["variables"].items()},
           "A11Y_CHECK_ARGS": "--dir public --max-critical 1 --max-serious 1"}
    res = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    for name in template["artifacts"]["paths"]:
        assert (tmp_path / name).is_file(), name
    assert not calls.exists()
    names = {c.get("name") for c in ET.parse(tmp_path / "a11ycrawl-junit.xml").getroot().iter("testcase")}
    assert {"/", "/about", "/docs/"} <= names


def cron_line() -> tuple[dict[str, str], str]:
    env, jobs = {}, []
    for line in (ROOT / "examples" / "crontab.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if m:
            env[m.group(1)] = m.group(2)
        else:
            jobs.append(line)
    (job,) = jobs
    fields = job.split(None, 5)
    assert len(fields) == 6 and fields[:5] == ["15", "2", "*", "*", "*"]
    return env, fields[5]


@pytest.mark.browser
def test_the_crontab_line_runs_with_crons_path(serve, tmp_path):
    """The job as cron runs it: /bin/sh, PATH=/usr/bin:/bin, the crontab's variables; the
    installed command (/opt/a11ycrawl/venv/bin/a11ycrawl) is a shim, the site a local one and
    /var paths live under tmp_path. It leaves the report and exports where the file says."""
    from fixture_site import routes

    env, command = cron_line()
    assert "%" not in command  # cron turns % into a newline
    calls = re.findall(r"(\S*a11ycrawl) (check|export)", command)
    assert calls and all(c == "/opt/a11ycrawl/venv/bin/a11ycrawl" for c, _ in calls)  # absolute: cron's PATH has no venv
    server = serve(routes())
    command = (command.replace("/opt/a11ycrawl/venv/bin/a11ycrawl", str(shim(tmp_path)))
               .replace("https://www.example.gov.uk/", server.url).replace("--max-pages 500", "--max-pages 4")
               .replace("/var/", f"{tmp_path}/var/"))
    for d in ("var/lib/a11ycrawl/reports", "var/log/a11ycrawl"):
        (tmp_path / d).mkdir(parents=True)
    env = {k: v.replace("/var/", f"{tmp_path}/var/") for k, v in env.items() if k != "MAILTO"}
    env.update({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh", "A11YCRAWL_CHROMIUM": find_chromium()})
    res = subprocess.run(["/bin/sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout == "" and res.stderr == "", (res.stdout, res.stderr)  # nothing to mail
    reports = tmp_path / "var/lib/a11ycrawl/reports"
    assert {p.name for p in reports.iterdir()} == {"accessibility.html", "latest.json", "findings.csv", "results.db"}
    log = (tmp_path / "var/log/a11ycrawl/audit.log").read_text()
    assert "Wrote" in log and "a11ycrawl check" in log
    assert (tmp_path / "var/lib/a11ycrawl/councils.db").is_file()


def test_the_systemd_unit_verifies_and_its_user_is_created(tmp_path):
    unit = (ROOT / "examples" / "a11ycrawl-audit.service").read_text()
    user = re.search(r"^User=(\S+)$", unit, re.M).group(1)
    sysusers = (ROOT / "examples" / "a11ycrawl.sysusers.conf").read_text()
    assert re.search(rf"^u {user} ", sysusers, re.M)  # the user the unit runs as is created by systemd-sysusers
    assert "a11ycrawl.sysusers.conf" in unit and "systemd-sysusers" in unit
    assert "--html /var/lib/a11ycrawl/reports/" in unit and "StateDirectoryMode=0755" in unit
    exe = shim(tmp_path)
    (tmp_path / "a11ycrawl-audit.service").write_text(unit.replace("/opt/a11ycrawl/venv/bin/a11ycrawl", str(exe)))
    shutil.copy(ROOT / "examples" / "a11ycrawl-audit.timer", tmp_path)
    systemd_analyze = shutil.which("systemd-analyze")
    assert systemd_analyze, "systemd-analyze is needed to verify the units (Debian: apt-get install systemd)"
    res = subprocess.run([systemd_analyze, "verify", str(tmp_path / "a11ycrawl-audit.service"),
                          str(tmp_path / "a11ycrawl-audit.timer")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "a11ycrawl-audit" not in res.stderr, res.stderr


def test_the_dockerfile_uses_only_debian_packages():
    """Not built here (no Docker daemon on this machine): its base is Debian's image and every
    package it installs is in the machine's Debian package lists."""
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM debian:\S+$", text, re.M)
    m = re.search(r"apt-get install (.*?)&&", text, re.S)
    packages = [w for w in m.group(1).replace("\\", " ").split() if not w.startswith("-")]
    assert {"chromium-headless-shell", "python3", "python3-venv"} <= set(packages)
    apt_cache = shutil.which("apt-cache")
    assert apt_cache, "apt-cache is needed to check the Dockerfile's packages"
    for p in packages:
        res = subprocess.run([apt_cache, "show", "--no-all-versions", p], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and f"Package: {p}" in res.stdout, (p, res.stderr)
    assert "pip install --no-cache-dir --disable-pip-version-check /opt/a11ycrawl/src" in text  # this checkout
    assert "A11YCRAWL_CHROMIUM=/usr/lib/chromium/chromium-headless-shell" in text
