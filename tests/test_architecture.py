"""The layers hold: the import-linter contracts in pyproject.toml run as part of the suite, so a
wrong arrow fails CI (README "Architecture"). Each check runs in a subprocess, because grimp
imports the packages it analyses from ``sys.path``."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("audits", "reports", "crawler", "config")
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


def _private_imports(root: Path = ROOT) -> list[str]:
    """``from package.module import _name`` across our packages (an underscored name is private to
    its module)."""
    found = []
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                        and node.module.split(".")[0] in PACKAGES:
                    found += [f"{f.relative_to(root)}:{node.lineno} {node.module}.{a.name}"
                              for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_private_names_imported_across_modules():
    assert _private_imports() == []


def test_the_private_name_check_can_fail(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "x.py").write_text("from audits.store import _json\nfrom audits import __version__\n")
    assert _private_imports(tmp_path) == ["reports/x.py:1 audits.store._json"]


def _test_module_imports(root: Path = ROOT) -> list[str]:
    """Test modules importing another test module (``from test_x import ...``): shared builders
    belong in helpers, fixture modules or conftest, so that each test module stands alone."""
    found = []
    for f in sorted((root / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            found += [f"tests/{f.name}:{node.lineno} {n}" for n in names if n.split(".")[0].startswith("test_")]
    return found


def test_no_test_module_imports_another(tmp_path):
    assert _test_module_imports() == []
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_y.py").write_text("from test_documents import raw_pdf\nimport helpers\n")
    assert _test_module_imports(tmp_path) == ["tests/test_y.py:1 test_documents"]
