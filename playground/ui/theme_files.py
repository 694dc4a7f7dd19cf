"""Themes as YAML files in ``themes/``, validated and turned into Textual themes.

A theme names Textual's base colours and the colours of message states (``states:``); the
states become the CSS variables ``$state-delivered``, ``$state-failed``... that every pane
uses, so a state looks the same everywhere.

A file that cannot be a theme is a list of :class:`ThemeProblem`, one line each (file,
line and column, field, what is valid), never pydantic's or ruamel's own text: those span
lines, name their wrappers ("<unicode string>") and point at their web pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails
from textual.color import Color, ColorParseError
from textual.theme import Theme

from playground.spec.source import Position, SourceMap, SourceProblem, as_written, undecodable
from playground.spec.source import read as read_yaml

THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
STATES = ("delivered", "retried", "failed", "throttled", "dead-lettered", "redriven", "busy",
          "idle", "cold")
DEFAULT_THEME = "dark"
MAX_BYTES = 64 * 1024  # the shipped themes are under 1 KB

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
NAME_PATTERN = r"^[a-z][a-z0-9-]*$"


class States(BaseModel):
    """The state colours; one not given takes its default. A model, not a dict, so that a
    misspelt state is refused with its own position like any unknown field."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    delivered: Colour | None = None
    retried: Colour | None = None
    failed: Colour | None = None
    throttled: Colour | None = None
    dead_lettered: Colour | None = Field(None, alias="dead-lettered")
    redriven: Colour | None = None
    busy: Colour | None = None
    idle: Colour | None = None
    cold: Colour | None = None


class ThemeFile(BaseModel):
    """What a theme file holds."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
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
    # false draws unfocused pane borders and inactive tab labels at full strength: at half
    # strength on black a projector washes them out
    dim_inactive: bool = True
    states: States = Field(default_factory=States)

    def to_theme(self) -> Theme:
        given = self.states.model_dump(by_alias=True, exclude_none=True)
        variables = {f"state-{s}": given.get(s, STATE_DEFAULTS[s]) for s in STATES}
        if not self.dim_inactive:
            variables["pane-border"] = self.primary
            variables["tab-label"] = self.foreground or self.primary
        return Theme(name=self.name, primary=self.primary, secondary=self.secondary,
                     accent=self.accent, foreground=self.foreground,
                     background=self.background, surface=self.surface, panel=self.panel,
                     warning=self.warning, error=self.error, success=self.success,
                     dark=self.dark, luminosity_spread=self.luminosity_spread,
                     text_alpha=self.text_alpha, variables=variables)


@dataclass(frozen=True)
class ThemeProblem:
    """Why one file is not a theme: ``file`` is its name in ``folder``; ``line`` and
    ``column`` (from 1) say where, when a place in the file is to blame."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    folder: str = "themes"

    def __str__(self) -> str:
        where = f":{self.line}:{self.column}" if self.line is not None else ""
        return f"{self.folder}/{self.file}{where}: {self.message}"


# What each field takes: (what a wrong value is not, what would be valid).
_A_COLOUR = ("a colour", "a colour such as \"#4C9BE8\", red or rgb(76,155,232)")
_TAKES: dict[str, tuple[str, str]] = {
    "name": ("a theme name", "lower-case letters, digits and '-', starting with a letter, "
                             "e.g. my-theme"),
    "dark": ("true or false", "true (a dark background) or false"),
    "luminosity_spread": ("a number", "a number such as 0.15"),
    "text_alpha": ("a number", "a number from 0 to 1 such as 0.95"),
    "dim_inactive": ("true or false", "true (unfocused borders at half strength) or false"),
    "states": ("a mapping of states to colours",
               f"state: colour lines for {', '.join(STATES)}"),
}
_FIELDS = tuple(ThemeFile.model_fields)
_EXAMPLE = "name: my-theme and primary: \"#4C9BE8\" at least, as in themes/dark.yaml"


def _takes(loc: tuple[Any, ...]) -> tuple[str, str]:
    if loc and loc[0] in _TAKES and len(loc) == 1:
        return _TAKES[loc[0]]
    return _A_COLOUR


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _said(error: ErrorDetails) -> tuple[tuple[Any, ...], str]:
    """The path the error is about and what to say of it, in one line."""
    loc = tuple(error["loc"])
    field = ".".join(as_written(part) for part in loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        if len(loc) == 2 and loc[0] == "states":
            return loc, f"unknown state {field}; valid: {', '.join(STATES)}"
        return loc, f"unknown field {field}; valid: {', '.join(_FIELDS)}"
    if kind == "missing":
        _, valid = _takes(loc)
        return loc, f"{field} is missing; valid: {valid}"
    if not loc:
        return loc, f"the file is not a mapping of fields; valid: {_EXAMPLE}"
    noun, valid = _takes(loc)
    return loc, f"{field}: {_shown(error.get('input'))} is not {noun}; valid: {valid}"


def _decoded(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise SourceProblem([(Position(1, 1), f"the file is {len(raw) // 1024} KB; a theme is at "
                                        f"most {MAX_BYTES // 1024} KB of YAML text")])
    try:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceProblem([(undecodable(raw, error), "the file is not UTF-8 text; valid: "
                                                        "a theme saved as UTF-8")]) from None


def _read(path: Path, folder: str) -> tuple[ThemeFile | None, SourceMap | None,
                                           list[ThemeProblem]]:
    """The theme in ``path`` with where its parts are, or why it is not one."""
    name = path.name
    try:
        data, source = read_yaml(_decoded(path.read_bytes()))
    except OSError as error:
        return None, None, [ThemeProblem(name, f"cannot be read: {error.strerror or error}",
                                         folder=folder)]
    except SourceProblem as error:
        return None, None, [ThemeProblem(name, message, p.line, p.column, folder)
                            for p, message in error.problems]
    if data is None:
        return None, None, [ThemeProblem(name, f"the file is empty; valid: {_EXAMPLE}",
                                         folder=folder)]
    try:
        return ThemeFile.model_validate(data), source, []
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            loc, message = _said(detail)
            keyed = detail["type"] in ("extra_forbidden", "missing")
            where = source.key(loc) if keyed else source.value(loc)
            problems.append(ThemeProblem(name, message, where.line, where.column, folder))
        return None, None, problems


def state_variable_defaults() -> dict[str, str]:
    return {f"state-{s}": colour for s, colour in STATE_DEFAULTS.items()}


def inactive_variables(variables: dict[str, str]) -> dict[str, str]:
    """Unfocused pane borders and inactive tab labels, at half strength unless the theme
    set them (``dim_inactive: false``)."""
    return {"pane-border": variables.get("pane-border", f"{variables['primary']} 50%"),
            "tab-label": variables.get("tab-label", f"{variables['foreground']} 50%")}


def load_themes(directory: Path | None = None) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every ``*.yaml`` theme in ``directory`` (``THEMES_DIR`` by default); a broken file is
    a problem, not a crash.

    Each name is one theme: a file that takes a name another file has is refused (the file
    named after the theme, ``dark.yaml`` for ``dark``, keeps it; else the first by name),
    so a new file never silently replaces a shipped theme."""
    directory = THEMES_DIR if directory is None else directory
    folder = directory.name
    read: list[tuple[Path, ThemeFile, SourceMap]] = []
    problems: list[ThemeProblem] = []
    for path in sorted(directory.glob("*.yaml")):
        theme, source, found = _read(path, folder)
        problems += found
        if theme is not None and source is not None:
            read.append((path, theme, source))
    owner: dict[str, Path] = {}
    for path, theme, _ in sorted(read, key=lambda r: r[0].stem != r[1].name):
        owner.setdefault(theme.name, path)
    themes: list[Theme] = []
    for path, theme, source in read:
        first = owner[theme.name]
        if first != path:
            where = source.value(("name",))
            problems.append(ThemeProblem(
                path.name, f"name: {theme.name!r} is already the name of {first.name}; "
                           f"valid: a name no other theme has (taken: "
                           f"{', '.join(sorted(owner))})", where.line, where.column, folder))
            continue
        themes.append(theme.to_theme())
    problems.sort(key=lambda p: (p.file, p.line or 0, p.column or 0))
    return themes, problems
