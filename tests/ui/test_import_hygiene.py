"""The engine knows nothing of the UI."""

from __future__ import annotations

import subprocess
import sys


def test_the_engine_does_not_import_textual() -> None:
    code = ("import sys, playground.engine.runtime, playground.runner, playground.spec; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'rich', 'playground.ui') or m.startswith('playground.ui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
