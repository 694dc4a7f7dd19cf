"""First-run setup for `python run.py`: a private virtual environment when packages are missing.

The quick start promises two commands on a fresh clone and nothing else, so when the
interpreter running `run.py` lacks the project's packages we make `.venv/` next to it,
install the project there (with the test tools), and start again inside it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
RUNTIME = ("textual", "rich", "pydantic", "ruamel.yaml", "aiosqlite", "aiomqtt", "amqtt")
TESTING = ("pytest", "pytest_asyncio", "pytest_textual_snapshot", "xdist", "hypothesis",
           "jsonschema")


def _missing(modules: tuple[str, ...]) -> list[str]:
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _python_in(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure(argv: list[str]) -> None:
    """Returns when everything needed is importable; otherwise sets up .venv and re-runs."""
    wanted = RUNTIME + (TESTING if argv[1:2] == ["test"] else ())
    missing = _missing(wanted)
    if not missing:
        return
    inside = Path(sys.prefix).resolve() == VENV.resolve()
    python = Path(sys.executable) if inside else _python_in(VENV)
    if not python.exists():
        print(f"playground: first run, creating {VENV} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"playground: installing the project and its packages into {VENV} "
          f"(missing: {', '.join(missing)}) ...", file=sys.stderr)
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
               "-e", f"{ROOT}[test,serve,bench]"]
    if subprocess.call(command) != 0:
        sys.exit("playground: installing the packages failed; see pip's output above")
    if inside:
        return
    os.execv(str(python), [str(python), *argv])
