"""Where SVG screenshots go (the one place that decides)."""

from __future__ import annotations

import re
from pathlib import Path

from playground.paths import unused

SCREENSHOTS_DIR = Path(".playground") / "screenshots"
# A file name is at most 255 bytes on common file systems; a name in Japanese takes three a
# character, and compare mode joins two names: the stem is cut well before that.
MAX_STEM_BYTES = 150


def screenshot_path(name: str, t: float, directory: Path = SCREENSHOTS_DIR) -> Path:
    """A new file name for a screenshot of ``name`` at simulated time ``t``.

    Letters and digits of every script are kept, as in the run's database file name
    (``recorder.default_path``: ``c.isalnum() or c in "-_"``, which is what ``\\w`` and
    ``-`` match in a str pattern); each run of anything else becomes one ``-``."""
    stem = re.sub(r"[^\w-]+", "-", name)
    stem = stem.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", errors="ignore")
    return unused(directory, f"{stem or 'playground'}-t{t:07.1f}s", ".svg")
