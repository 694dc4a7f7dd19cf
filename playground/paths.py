"""New files that never overwrite one already there (run databases, screenshots)."""

from __future__ import annotations

import os
from pathlib import Path


def unused(directory: Path, stem: str, suffix: str, *, claim: bool = False) -> Path:
    """``directory/STEM.SUFFIX``, else ``STEM-2``, ``STEM-3``...: the first name no file
    has yet (``directory`` is made if need be). With ``claim``, the file is made here, empty:
    a name only looked at could be given to another process at the same instant too."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}{suffix}"
    counter = 1
    while True:
        if claim:
            try:
                path.open("x").close()
                return path
            except FileExistsError:
                pass
        elif not path.exists():
            return path
        counter += 1
        path = directory / f"{stem}-{counter}{suffix}"


def db_problem(text: str) -> str | None:
    """What is wrong with ``--db TEXT`` before a run tries to open it, if anything."""
    if not text.strip():
        return "--db needs a file name"
    path = Path(text)
    try:
        folder = path.is_dir()
    except OSError as error:  # is_dir() raises, not answers False, where it may not look
        closed = _first_closed(path)
        where = f"this user cannot enter {closed}" if closed else error.strerror or str(error)
        return f"--db: cannot reach {text} ({where}); name a file in a folder you can " \
               "write, e.g. run.sqlite"
    if folder:
        return f"--db: {text} is a folder; name a file, e.g. {path / 'run.sqlite'}"
    return None


def _first_closed(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that this user may not enter, if any."""
    for folder in reversed(path.absolute().parents):
        if folder.is_dir() and not os.access(folder, os.X_OK):
            return folder
    return None
