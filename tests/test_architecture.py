"""The layers hold: the import-linter contracts in pyproject.toml run as part of the suite, so a
wrong arrow fails CI (README "Architecture"). Each check runs in a subprocess, because grimp
imports the packages it analyses from ``sys.path``."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def _lint(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LINT], cwd=repo, capture_output=True, text=True,
                          env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"})


def test_import_contracts_are_kept():
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_a_wrong_arrow_is_caught(tmp_path):
    """The contracts are not vacuous: the analysis layer importing the engine breaks them."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", "*.db", "__pycache__", ".pytest_cache"))
    bad = copy / "audits" / "analysis" / "scoring.py"
    bad.write_text(bad.read_text() + "\nfrom audits.engine import browser  # noqa\n")
    proc = _lint(copy)
    assert proc.returncode != 0, proc.stdout
    assert "audits.analysis.scoring -> audits.engine.browser" in proc.stdout
