"""Themes as YAML files in ``themes/``, validated and turned into Textual themes.

A theme names Textual's base colours and the colours of message states (``states:``); the
states become the CSS variables ``$state-delivered``, ``$state-failed``... that every pane
uses, so a state looks the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from textual.color import Color, ColorParseError
from textual.theme import Theme

THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
STATES = ("delivered", "retried", "failed", "throttled", "dead-lettered", "redriven", "busy",
          "idle", "cold")
DEFAULT_THEME = "dark"

# Fallbacks for themes that do not come from our files (Textual's own).
STATE_DEFAULTS = {
    "delivered": "#4EBF71", "retried": "#FFA62B", "failed": "#E5534B",
    "throttled": "#C678DD", "dead-lettered": "#FF8A3D", "redriven": "#4FC3D9",
    "busy": "#0178D4", "idle": "#6B7280", "cold": "#9CD6F5",
}


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as error:
        raise ValueError(f"not a colour: {value!r}") from error
    return value


Colour = Annotated[str, AfterValidator(_colour)]


class ThemeFile(BaseModel):
    """What a theme file holds."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    dark: bool = True
    primary: Colour
    secondary: Colour | None = None
    accent: Colour | None = None
    foreground: Colour | None = None
    background: Colour | None = None
    surface: Colour | None = None
    panel: Colour | None = None
    warning: Colour | None = None
    error: Colour | None = None
    success: Colour | None = None
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    states: dict[str, Colour] = Field(default_factory=dict)

    def to_theme(self) -> Theme:
        unknown = set(self.states) - set(STATES)
        if unknown:
            raise ValueError(f"unknown states: {', '.join(sorted(unknown))}")
        variables = {f"state-{s}": self.states.get(s, STATE_DEFAULTS[s]) for s in STATES}
        return Theme(name=self.name, primary=self.primary, secondary=self.secondary,
                     accent=self.accent, foreground=self.foreground,
                     background=self.background, surface=self.surface, panel=self.panel,
                     warning=self.warning, error=self.error, success=self.success,
                     dark=self.dark, luminosity_spread=self.luminosity_spread,
                     text_alpha=self.text_alpha, variables=variables)


@dataclass(frozen=True)
class ThemeProblem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def state_variable_defaults() -> dict[str, str]:
    return {f"state-{s}": colour for s, colour in STATE_DEFAULTS.items()}


def load_themes(directory: Path = THEMES_DIR) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every ``*.yaml`` theme in ``directory``; a broken file is a problem, not a crash."""
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    yaml = YAML(typ="safe", pure=True)
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"))
            themes.append(ThemeFile.model_validate(data).to_theme())
        except (OSError, YAMLError, ValidationError, ValueError) as error:
            problems.append(ThemeProblem(path.name, str(error)))
    return themes, problems
