"""The app: wires themes, screens and sessions together; the screens do the work."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.screen import Screen

from playground.engine.clock import ClockMode
from playground.spec import load_text
from playground.ui import topology_file
from playground.ui.catalog import TOPOLOGIES_DIR, examples
from playground.ui.clocks import LinkedClock, RunClock, SoloClock
from playground.ui.controls import APP_CONTROLS, bindings
from playground.ui.screens.compare_screen import CompareScreen
from playground.ui.screens.help_screen import HelpScreen
from playground.ui.screens.picker_screen import PickerScreen
from playground.ui.screens.run_screen import RunScreen
from playground.ui.screens.running import RunningScreen
from playground.ui.screens.unsaved_screen import UnsavedScreen
from playground.ui.screenshots import SCREENSHOTS_DIR, screenshot_path
from playground.ui.session import Session
from playground.ui.theme_files import (
    DEFAULT_THEME,
    THEMES_DIR,
    inactive_variables,
    load_themes,
    state_variable_defaults,
)


class PlaygroundApp(App[None]):
    """``mode="real"``: time runs on the wall clock; ``mode="virtual"``: time only moves
    when stepped (``n``, ``.``, or :meth:`RunningScreen.refresh_frame` after a step)."""

    TITLE = "playground"
    CSS_PATH = "styles/app.tcss"
    BINDINGS = bindings(APP_CONTROLS)

    def __init__(self, path: Path | None = None, *, compare: Path | None = None,
                 mode: ClockMode = "real", theme: str | None = None, speed: float = 1.0,
                 seed: int | None = None, db: Path | None = None,
                 themes_dir: Path = THEMES_DIR, examples_dir: Path = TOPOLOGIES_DIR,
                 screenshots_dir: Path = SCREENSHOTS_DIR) -> None:
        super().__init__()
        self.path = path
        self.compare_path = compare
        self.mode: ClockMode = mode
        self.speed = speed
        self.seed = seed
        self.db = db
        self.examples_dir = examples_dir
        self.screenshots_dir = screenshots_dir
        themes, self.theme_problems = load_themes(themes_dir)
        self.theme_names = [t.name for t in themes]
        for file_theme in themes:
            self.register_theme(file_theme)
        wanted = theme or DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return state_variable_defaults()

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        variables.update(inactive_variables(variables))
        self.theme_variables = variables
        return variables

    def on_ready(self) -> None:
        # Everything made so far (Textual, the screens, the modules) lives as long as the
        # app: keep it out of the collector's full passes, which otherwise stop both the
        # screen and the engine for tens of milliseconds under load.
        gc.freeze()

    def on_mount(self) -> None:
        by_file: dict[str, list[str]] = {}
        for problem in self.theme_problems:
            by_file.setdefault(problem.file, []).append(str(problem))
        for lines in by_file.values():  # one notice a file, one line a problem
            self.notify("\n".join(lines), title="Theme not loaded", severity="warning",
                        timeout=10, markup=False)  # a quoted value may hold '['
        if self.path is None:
            self.push_screen(PickerScreen(examples(self.examples_dir)), self._picked)
            return
        path, compare = self.path, self.compare_path
        try:
            screen: Screen[None] = (self._compare_screen(path, compare) if compare is not None
                                    else self._run_screen(path))
        except topology_file.FileRefused as refused:  # run.py checks first; serve or a race
            self.exit(return_code=2, message=str(refused))
            return
        self.push_screen(screen)

    # --- building screens ----------------------------------------------------------------

    def _speed(self) -> float:
        """The speed a new screen runs at: the one the user set on the run it replaces (a
        file opened or compared goes on at 5x), else ``--speed``."""
        running = next((s for s in reversed(self.screen_stack)
                        if isinstance(s, RunningScreen)), None)
        return running.clock.speed if running is not None else self.speed

    def _session(self, path: Path, mode: ClockMode, *, seed: int | None = None,
                 second: bool = False) -> Session:
        db = self.db
        if db is not None and second:
            db = db.with_name(f"{db.stem}-b{db.suffix}")
        seed = self.seed if seed is None else seed
        return Session(path, mode=mode, speed=self._speed(), seed=seed, db=db)

    def _run_screen(self, path: Path) -> RunScreen:
        clock: RunClock
        if self.mode == "virtual":
            clock = LinkedClock(self._speed(), paused=True)
        else:
            clock = SoloClock(self._speed())
        return RunScreen(self._session(path, self.mode), clock)

    def _compare_screen(self, a: Path, b: Path) -> CompareScreen:
        clock = LinkedClock(self._speed(), paused=self.mode == "virtual")
        first = self._session(a, "virtual")
        # the same seed on both sides: the same producers send the same traffic
        seed = self.seed if self.seed is not None else (
            first.topology.seed if first.topology is not None else None)
        second = self._session(b, "virtual", seed=seed, second=True)
        return CompareScreen(first, second, clock)

    def _show(self, screen: Screen[None]) -> None:
        if isinstance(self.screen, RunningScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _picked(self, path: Path | None) -> None:
        if path is not None and self._opened(lambda: self._run_screen(path)):
            self.path, self.compare_path = path, None

    def _compare_picked(self, path: Path | None) -> None:
        first = self.path
        if path is not None and first is not None and \
                self._opened(lambda: self._compare_screen(first, path)):
            self.compare_path = path

    def _opened(self, make: Callable[[], Screen[None]]) -> bool:
        """Shows the screen ``make`` builds; a file that cannot be opened (the picker read
        it, but it changed since) is said, and the screen shown now stays."""
        try:
            screen = make()
        except topology_file.FileRefused as refused:
            self.notify(str(refused), title="Cannot open", severity="error")
            return False
        self._show(screen)
        return True

    # --- app-wide actions ----------------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, RunningScreen):
            self.push_screen(HelpScreen(screen.HELP_TITLE, screen.CONTROLS))
        elif not isinstance(screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_open(self) -> None:
        self._leaving_edits("open another file", lambda: self.push_screen(
            PickerScreen(examples(self.examples_dir), cancellable=True), self._picked))

    def action_compare(self) -> None:
        if self.path is None:
            return
        self._leaving_edits("compare", lambda: self.push_screen(
            PickerScreen(examples(self.examples_dir), cancellable=True,
                         refuse=self._not_comparable, refused="Cannot compare"),
            self._compare_picked))

    @staticmethod
    def _not_comparable(path: Path, text: str) -> str | None:
        # compare mode restarts the run behind the picker from t = 0: for a side that
        # would not run, the user would lose it for nothing
        errors = load_text(text, str(path)).errors
        if not errors:
            return None
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        return (f"{path} has {count}: {errors[0].message}. The run goes on; open the file "
                "with ctrl+o to fix them")

    async def action_quit(self) -> None:
        self._leaving_edits("quit", self.exit)

    def _leaving_edits(self, going: str, then: Callable[[], object]) -> None:
        """Does ``then`` (which replaces or ends the run) once the YAML pane's unsaved
        edits are saved or given up; cancelled, the user is back in the editor."""
        if isinstance(self.screen, UnsavedScreen):
            return
        editing = next((s for s in self.screen_stack
                        if isinstance(s, RunScreen) and s.unsaved), None)
        if editing is None:
            then()
            return

        def answered(go: bool | None) -> None:
            if go:
                then()
            else:
                editing.edit()

        self.push_screen(UnsavedScreen(going, editing.save_edits), answered)

    def action_next_theme(self) -> None:
        # unique whatever was registered, and from the first one when the theme now shown
        # is not among them: cycling must never stick on one theme
        names = list(dict.fromkeys(self.theme_names or self.available_themes))
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def action_screenshot(self) -> None:
        screen = self.screen
        name = "playground"
        t = 0.0
        if isinstance(screen, RunningScreen):
            name = "-vs-".join(s.name for s in screen.sessions)
            t = screen.clock.now
        try:
            path = screenshot_path(name, t, self.screenshots_dir)
            self.save_screenshot(filename=path.name, path=str(path.parent))
        except OSError as error:  # the folder cannot be made, the disk is full...
            self.notify(f"cannot write in {self.screenshots_dir}: "
                        f"{error.strerror or error}", title="Screenshot not saved",
                        severity="error", timeout=10)
            return
        self.notify(str(path), title="Screenshot saved")

    # Textual's own commands that ours replace: its Theme lists Textual's built-in themes,
    # not the files in themes/; its Screenshot saves outside .playground/screenshots/; its
    # Maximize/Minimize act on the focused widget, where ours (z, esc) act on the pane and
    # belong to the run screen. Its Quit (which calls our action_quit) and Keys stay.
    REPLACED_SYSTEM_COMMANDS = frozenset(("Theme", "Screenshot", "Maximize", "Minimize"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in self.REPLACED_SYSTEM_COMMANDS:
                yield command
        for control in getattr(screen, "CONTROLS", ()):
            # called, not run as an action: chosen by name, it must work even while a text
            # box has the key (check_action then keeps the key out of the footer)
            _, name, params = parse_action(control.action)
            yield SystemCommand(control.title, control.help,
                                partial(self.call_later, getattr(screen, f"action_{name}"),
                                        *params))
        for control in APP_CONTROLS:
            if control.action != "quit":
                yield SystemCommand(control.title, control.help,
                                    partial(self.call_later, self.run_action,
                                            control.action))
