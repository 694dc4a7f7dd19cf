"""Where SVG screenshots go (the one place that decides)."""

from __future__ import annotations

import re
from pathlib import Path

from playground.paths import unused

SCREENSHOTS_DIR = Path(".playground") / "screenshots"


def screenshot_path(name: str, t: float, directory: Path = SCREENSHOTS_DIR) -> Path:
    """A new file name for a screenshot of ``name`` at simulated time ``t``."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name) or "playground"
    return unused(directory, f"{stem}-t{t:07.1f}s", ".svg")
