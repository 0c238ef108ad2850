"""Bad input ends with exit code 2 and one clear line on stderr, never a traceback. The command line
runs in this process through its entry point function; two tests run it as a real process."""

import socket

import pytest

from audits.engine.static_server import Reply
from fixture_site import PDF
from helpers import run_cli


def one_line_error(res):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [l for l in res.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("a11ycrawl: error:"), lines[0]
    return lines[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/", "http://", "example.org"])
def test_malformed_url(cli, tmp_path, url):
    line = one_line_error(cli("audit", url, "--db", str(tmp_path / "a.db"), cwd=tmp_path))
    assert "not an http(s) URL" in line


def test_unknown_option(cli, tmp_path):
    line = one_line_error(cli("audit", "http://127.0.0.1/", "--frobnicate", cwd=tmp_path))
    assert "--frobnicate" in line and "--help" in line


def test_missing_url(cli, tmp_path):
    line = one_line_error(cli("audit", cwd=tmp_path))
    assert "missing URL" in line


def test_bad_config_file(cli, tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text("max_pages = 'lots'\n")
    line = one_line_error(cli("audit", "http://127.0.0.1:9/", cwd=tmp_path))
    assert "a11ycrawl.toml" in line and "max_pages" in line
    (tmp_path / "a11ycrawl.toml").write_text("max_pagez = 3\n")
    line = one_line_error(cli("audit", "http://127.0.0.1:9/", cwd=tmp_path))
    assert "max_pagez" in line and "unknown key" in line
    (tmp_path / "a11ycrawl.toml").write_text("max_pages = [\n")
    line = one_line_error(cli("audit", "http://127.0.0.1:9/", cwd=tmp_path))
    assert "not valid TOML" in line


def test_bad_environment_value(tmp_path):
    """In a subprocess: the installed entry point exits 2 with one line."""
    line = one_line_error(run_cli("audit", "http://127.0.0.1:9/", cwd=tmp_path, env={"A11YCRAWL_CONCURRENCY": "many"}))
    assert "A11YCRAWL" in line and "concurrency" in line


@pytest.mark.browser
def test_connection_refused(cli, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/"
    line = one_line_error(cli("audit", url, "--db", str(tmp_path / "a.db"), cwd=tmp_path))
    assert "connection_error" in line and url in line
    # the failed run is stored, with its reason, never as a clean run
    import sqlite3

    status, error = sqlite3.connect(tmp_path / "a.db").execute("select status, error from runs").fetchone()
    assert status == "failed" and "connection_error" in error


@pytest.mark.browser
def test_start_url_is_a_pdf(cli, tmp_path, serve):
    server = serve({"/report.pdf": Reply(body=PDF, ctype="application/pdf")})
    line = one_line_error(cli("audit", server.origin + "/report.pdf", "--db", str(tmp_path / "a.db"), cwd=tmp_path))
    assert "document (pdf)" in line


@pytest.mark.browser
def test_no_chromium(cli, tmp_path):
    line = one_line_error(cli("audit", "http://127.0.0.1:9/", "--chromium", str(tmp_path / "nochrome"), cwd=tmp_path))
    assert "apt-get install" in line and "A11YCRAWL_CHROMIUM" in line


def test_help_has_examples_and_exit_codes(cli, tmp_path):
    res = run_cli("--help", cwd=tmp_path)  # in a subprocess: python -m reports.cli is the entry point
    assert res.returncode == 0
    assert "Exit codes" in res.stdout and "a11ycrawl audit https://" in res.stdout
    res = cli("audit", "--help")
    assert res.returncode == 0 and "Examples" in res.stdout


@pytest.mark.browser
def test_start_url_redirecting_to_another_host_says_what_to_run(cli, serve, tmp_path):
    # example.gov.uk -> www.example.gov.uk, played by 127.0.0.1 -> localhost on the same port
    server = serve({"/": Reply(status=301, headers={"Location": "/home"})})
    port = server.port
    server.app["/home"] = Reply(status=301, headers={"Location": f"http://localhost:{port}/home"})
    line = one_line_error(cli("audit", server.url, "--db", str(tmp_path / "a.db"), cwd=tmp_path))
    assert "out_of_scope" in line
    assert f"audit http://localhost:{port}/home instead, or add --allow-host localhost:{port}" in line


@pytest.mark.browser
def test_a_start_url_in_a_directory_redirecting_to_another_host_is_not_told_to_widen(cli, serve, tmp_path):
    """Kept in /services/, the crawl would cover the whole other host with --allow-host (an
    allowed host is crawled whole): the hint names only the address to audit instead."""
    server = serve({})
    port = server.port
    server.app["/services/"] = Reply(status=301, headers={"Location": f"http://localhost:{port}/services/"})
    line = one_line_error(cli("audit", server.url + "services/", "--db", str(tmp_path / "a.db"), cwd=tmp_path))
    assert f"(audit http://localhost:{port}/services/ instead)" in line and "--allow-host" not in line


@pytest.mark.parametrize("target", ["/nowhere/public", "public/", "./site", "www.example.gov.uk/"])
def test_check_a_path_that_does_not_exist_says_so(cli, tmp_path, target):
    """A mistyped build directory is no such directory, not "not an http(s) URL"; a host name
    without its scheme is still told to give a URL."""
    line = one_line_error(cli("check", target, "--db", str(tmp_path / "a.db"), cwd=tmp_path))
    if target.startswith("www."):
        assert "is not an http(s) URL" in line
    else:
        assert f"{target}: no such file or directory" in line and "http(s) URL with a host" not in line
