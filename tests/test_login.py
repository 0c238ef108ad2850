"""Issue 3: signed-in audits with basic auth, headers, cookies and a form login; secrets come from
the environment and never reach the database or the output."""

import base64

import pytest

from helpers import load_json
from fixture_site import page
from audits.engine.static_server import Reply

pytestmark = pytest.mark.browser

USER, PASSWORD, TOKEN = "resident", "s3cret-Pa55", "tok-98765"


def routes():
    def basic(h):
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if h.headers.get("Authorization") != want:
            return Reply(401, "login", "text/plain", headers={"WWW-Authenticate": 'Basic realm="council"'})
        return Reply(body=page("Members area", '<p>Hello.</p><a href="/members/bills">Bills</a>'))

    def bills(h):
        return basic(h) if basic(h).status == 401 else Reply(body=page("Your bills", "<p>None.</p>"))

    return {
        "/": Reply(body=page("Home", '<a href="/members/">Members</a>')),
        "/members/": basic,
        "/members/bills": bills,
        "/robots.txt": Reply(404),
    }


def form_routes():
    def login(h):
        if h.command == "POST":
            body = h.read_body().decode()
            if f"user={USER}" in body and "pass=" + PASSWORD in body.replace("%2D", "-"):
                return Reply(302, headers={"Location": "/account/", "Set-Cookie": "session=ok123; Path=/; HttpOnly"})
            return Reply(body=page("Sign in", "<p>Wrong password</p>"))
        return Reply(body=page("Sign in", """<form method="post" action="/login">
<label for="user">User</label><input id="user" name="user"><label for="pass">Password</label>
<input id="pass" name="pass" type="password"><button id="go">Sign in</button></form>"""))

    def account(h):
        if "session=ok123" not in (h.headers.get("Cookie") or ""):
            return Reply(302, headers={"Location": "/login"})
        if h.headers.get("X-Api-Token") != TOKEN:
            return Reply(403, "no token", "text/plain")
        return Reply(body=page("My account", '<p>Signed in as resident</p><a href="/account/tax">Council tax</a>'))

    def tax(h):
        r = account(h)
        return r if r.status != 200 else Reply(body=page("Council tax", "<p>Band C</p>"))

    return {"/": Reply(body=page("Home", '<a href="/account/">My account</a>')), "/login": login,
            "/account/": account, "/account/tax": tax, "/robots.txt": Reply(404)}


def no_secrets(tmp_path, *texts):
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for secret in (PASSWORD, TOKEN, "ok123"):
        assert secret.encode() not in blob, f"{secret} stored"
        for t in texts:
            assert secret not in t


def test_basic_auth(cli, serve, tmp_path):
    server = serve(routes())
    (tmp_path / "a11ycrawl.toml").write_text('[login]\nbasic_user_env = "COUNCIL_USER"\nbasic_password_env = "COUNCIL_PASS"\n')
    env = {"COUNCIL_USER": USER, "COUNCIL_PASS": PASSWORD}
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"), cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    pages = {p["url"].rsplit("/", 2)[-2] + "/" + p["url"].rsplit("/", 1)[-1]: p for p in load_json(tmp_path / "r.json")["pages"]}
    states = {k: v["status"] for k, v in pages.items()}
    assert list(states.values()).count("audited") == 3, states
    no_secrets(tmp_path, res.stderr, res.stdout)


def test_without_credentials_pages_need_auth(cli, serve, tmp_path):
    server = serve(routes())
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    codes = {p["url"].split("/", 3)[3]: p["reason_code"] for p in load_json(tmp_path / "r.json")["pages"]}
    assert codes["members/"] == "auth_required"


def test_form_login_with_header(cli, serve, tmp_path):
    server = serve(form_routes())
    (tmp_path / "a11ycrawl.toml").write_text(f"""
[login]
form_url = "{server.origin}/login"
form_fields_env = {{ "#user" = "COUNCIL_USER", "#pass" = "COUNCIL_PASS" }}
form_submit = "#go"
success_text = "Signed in as"
headers_env = {{ "X-Api-Token" = "COUNCIL_TOKEN" }}
""")
    env = {"COUNCIL_USER": USER, "COUNCIL_PASS": PASSWORD, "COUNCIL_TOKEN": TOKEN}
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "r.json"), cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    audited = sorted(p["url"].split("/", 3)[3] for p in load_json(tmp_path / "r.json")["pages"] if p["status"] == "audited")
    assert audited == ["", "account/", "account/tax"], audited
    no_secrets(tmp_path, res.stderr, res.stdout)


def test_form_login_failure_is_one_line(cli, serve, tmp_path):
    server = serve(form_routes())
    (tmp_path / "a11ycrawl.toml").write_text(f"""
[login]
form_url = "{server.origin}/login"
form_fields_env = {{ "#user" = "COUNCIL_USER", "#pass" = "COUNCIL_PASS" }}
form_submit = "#go"
success_text = "Signed in as"
""")
    res = cli("audit", server.url, "--db", str(tmp_path / "a.db"), cwd=tmp_path,
              env={"COUNCIL_USER": USER, "COUNCIL_PASS": "wrong-password"})
    assert res.returncode == 2 and "form login" in res.stderr and "wrong-password" not in res.stderr


def test_missing_secret_variable(cli, tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text('[login]\nbasic_user_env = "NOPE_USER"\n')
    res = cli("audit", "http://127.0.0.1:9/", "--db", str(tmp_path / "a.db"), cwd=tmp_path)
    assert res.returncode == 2 and "NOPE_USER" in res.stderr and "Traceback" not in res.stderr
