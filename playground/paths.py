"""New files that never overwrite one already there (run databases, screenshots)."""

from __future__ import annotations

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
    if path.is_dir():
        return f"--db: {text} is a folder; name a file, e.g. {path / 'run.sqlite'}"
    return None
