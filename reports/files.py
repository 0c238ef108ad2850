"""Writing the files a user asks for (reports, exports, JSON, JUnit, SARIF): all or nothing.

A file is written to a temporary file in the same folder and renamed over the target, so a
full disk, a quota or a Ctrl-C never leaves a truncated or 0-byte file where a report was
expected (and an older good file stays until the new one is complete). Missing folders are
created. A failure raises :class:`~audits.errors.OutputError` naming the file, which the CLI
turns into one line and exit code 2.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from audits.errors import OutputError


def _mode_for(path: Path) -> int:
    """The mode the file would have had if written in place: an existing file's, else 0666 less
    the umask (``mkstemp`` itself creates 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def prepare_output(path: str | Path, option: str | None = None) -> Path:
    """Check, before any work is done, that ``path`` can be written: not a folder, and its
    folder exists or can be created and is writable. Creates missing folders. Raises
    :class:`OutputError` naming ``option`` (e.g. ``--junit``) and the file."""
    path = Path(path)
    label = f"{option} {path}" if option else str(path)
    if path.is_dir():
        raise OutputError(f"{label}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{label}: cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise OutputError(f"{label}: cannot write in the folder {path.parent} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{label}: the file exists and is not writable")
    return path


def write_text(path: str | Path, text: str, *, newline: str | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; create missing folders. ``newline`` as for
    :func:`open` (``""`` writes line endings as they are, e.g. CSV's CRLF)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
        raise
    return path
