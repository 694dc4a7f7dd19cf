"""The examples in ``topologies/``: what the picker lists (file reading lives here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playground.spec import load_file

TOPOLOGIES_DIR = Path(__file__).resolve().parents[2] / "topologies"
DEFAULT_EXAMPLE = "showcase.yaml"


@dataclass(frozen=True)
class Example:
    path: Path
    name: str
    description: str
    ok: bool

    @property
    def summary(self) -> str:
        """The description's first sentence or line, for a one-line listing."""
        first = self.description.strip().split("\n\n")[0].replace("\n", " ")
        return first.split(". ")[0].rstrip(".") if first else ""


def examples(directory: Path = TOPOLOGIES_DIR) -> list[Example]:
    """Every topology in ``directory``, the default example first."""
    found: list[Example] = []
    for path in sorted(directory.glob("*.yaml")):
        loaded = load_file(path, lint=False)
        topology = loaded.topology
        if topology is not None:
            found.append(Example(path, topology.name, topology.description, True))
        else:
            description = "\n".join(str(p) for p in loaded.errors[:3])
            found.append(Example(path, path.stem, description, False))
    found.sort(key=lambda e: (e.path.name != DEFAULT_EXAMPLE, e.path.name))
    return found


def typed_path(text: str) -> Path | None:
    """The file a user typed, if there is one."""
    path = Path(text.strip()).expanduser()
    return path if text.strip() and path.is_file() else None
