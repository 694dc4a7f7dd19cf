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
_INSTALLED = "PLAYGROUND_INSTALLED"  # set for the start that follows an install
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
    if not inside:
        # start again inside .venv, which checks for itself what it lacks: a .venv made by
        # an earlier run has everything, and asking pip again would take seconds and the
        # package registry on every run
        python = _python_in(VENV)
        if not python.exists():
            print(f"playground: first run, creating {VENV} ...", file=sys.stderr)
            venv.EnvBuilder(with_pip=True).create(VENV)
        os.execv(str(python), [str(python), *argv])
    print(f"playground: installing the project and its packages into {VENV} "
          f"(missing: {', '.join(missing)}) ...", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
               "-e", f"{ROOT}[test,serve,bench]"]
    if subprocess.call(command) != 0:
        sys.exit("playground: installing the packages failed; see pip's output above")
    if os.environ.get(_INSTALLED):  # installed, and still missing: never loop
        sys.exit(f"playground: {', '.join(missing)} still missing after installing into "
                 f"{VENV}; remove that folder and run again")
    # a fresh start sees the install as a later run will (its .pth files included)
    os.environ[_INSTALLED] = "1"
    os.execv(sys.executable, [sys.executable, *argv])
