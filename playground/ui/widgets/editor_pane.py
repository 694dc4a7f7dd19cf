"""The YAML pane: the topology file in a TextArea, highlighted, checked as you type, with
its problems marked at their lines and listed below; ctrl+s saves and applies."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from playground.spec.problem import Problem
from playground.ui.yaml_tokens import spans

CHECK_DELAY = 0.25  # seconds of quiet typing before the text is checked


class YamlEditor(TextArea):
    """A TextArea that highlights YAML and marks the lines that have problems."""

    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {
        "yaml--key", "yaml--string", "yaml--number", "yaml--constant", "yaml--comment",
        "yaml--punct", "yaml--error-line", "yaml--warning-line",
    }
    DEFAULT_CSS = """
    YamlEditor { height: 1fr; border: none; padding: 0; }
    YamlEditor:focus { border: none; }
    YamlEditor > .yaml--key { color: $primary; text-style: bold; }
    YamlEditor > .yaml--string { color: $success; }
    YamlEditor > .yaml--number { color: $accent; }
    YamlEditor > .yaml--constant { color: $secondary; text-style: italic; }
    YamlEditor > .yaml--comment { color: $foreground 45%; text-style: italic; }
    YamlEditor > .yaml--punct { color: $foreground 60%; }
    YamlEditor > .yaml--error-line { background: $error 30%; text-style: underline; }
    YamlEditor > .yaml--warning-line { background: $warning 15%; }
    """

    def __init__(self, text: str = "", *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(text, name=name, id=id, classes=classes, show_line_numbers=True,
                         tab_behavior="indent", soft_wrap=False)
        self.error_lines: frozenset[int] = frozenset()
        self.warning_lines: frozenset[int] = frozenset()
        self._styles: dict[str, Style] = {}

    def mark(self, problems: list[Problem]) -> None:
        self.error_lines = frozenset(p.line - 1 for p in problems if p.is_error)
        self.warning_lines = frozenset(p.line - 1 for p in problems if not p.is_error)
        self._line_cache.clear()  # the marks are not part of TextArea's own cache key
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        plain = line.plain
        for start, end, kind in spans(plain):
            line.stylize(self._style(f"yaml--{kind}"), start, end)
        if line_index in self.error_lines:
            line.stylize(self._style("yaml--error-line"), 0, max(1, len(plain)))
        elif line_index in self.warning_lines:
            line.stylize(self._style("yaml--warning-line"), 0, max(1, len(plain)))
        return line


class EditorPane(Vertical):
    """The editor and the problems found in what it holds."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save & apply", priority=True),
        # tab indents in the editor, so the list below is out of the keys' reach: these
        # go to the problems from where the user types
        Binding("f8", "problem(1)", "Next problem"),
        Binding("shift+f8", "problem(-1)", "Previous problem", show=False)]
    DEFAULT_CSS = """
    EditorPane { height: 1fr; }
    EditorPane > #yaml-state { height: 1; color: $text-muted; background: $panel; }
    EditorPane > #yaml-state.-modified { color: $text-warning; }
    EditorPane > #yaml-state.-errors { color: $text-error; }
    EditorPane > OptionList { height: auto; max-height: 4; border: none;
                               background: $panel; }
    """

    class Edited(Message):
        """The text changed (after a short pause in typing)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class SaveRequested(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    problems: var[tuple[Problem, ...]] = var(())
    """Problems of the text in the editor."""
    saved_text: var[str] = var("")
    """The file as last saved: the pane says when the buffer differs."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._check_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        # a line of its own: the pane sits in a tab without a border to carry a subtitle
        yield Static(id="yaml-state")
        yield YamlEditor(id="yaml-editor")
        yield OptionList(id="problems")

    @property
    def editor(self) -> YamlEditor:
        return self.query_one(YamlEditor)

    @property
    def text(self) -> str:
        return self.editor.text

    def load(self, text: str) -> None:
        """Replaces the buffer (a new file, or the file changed and the buffer was clean)."""
        self.saved_text = text
        if self.editor.text != text:
            self.editor.load_text(text)
        self._update_state()

    @property
    def dirty(self) -> bool:
        return self.editor.text != self.saved_text

    def watch_saved_text(self) -> None:
        self._update_state()

    def watch_problems(self, problems: tuple[Problem, ...]) -> None:
        self.editor.mark(list(problems))
        listing = self.query_one("#problems", OptionList)
        if len(problems) > listing.option_count:
            # a longer list takes rows from the editor: the line being typed stays in view
            self.call_after_refresh(self.editor.scroll_cursor_visible)
        listing.clear_options()
        listing.add_options([
            Option(Text.assemble(
                (f"{p.line}:{p.column} ", "bold"),
                ("warning: " if not p.is_error else "", ""),
                p.message + (f" ({p.path})" if p.path else ""),
                no_wrap=True, overflow="ellipsis"), id=f"p{i}")
            for i, p in enumerate(problems)])
        listing.display = bool(problems)
        self._update_state()

    def _update_state(self) -> None:
        errors = sum(1 for p in self.problems if p.is_error)
        warnings = len(self.problems) - errors
        dirty = self.dirty
        parts = ["modified" if dirty else "saved"]
        if errors:
            parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        state = self.query_one("#yaml-state", Static)
        state.update(" " + " · ".join(parts))
        state.set_class(dirty, "-modified")
        state.set_class(bool(errors), "-errors")

    @on(TextArea.Changed, "#yaml-editor")
    def _changed(self) -> None:
        self._update_state()
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY, self._check)

    def _check(self) -> None:
        self._check_timer = None
        self.post_message(self.Edited(self.editor.text))

    def check_now(self) -> None:
        """Checks the text at once (instead of after the typing pause)."""
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check()

    @on(OptionList.OptionSelected, "#problems")
    def _goto(self, event: OptionList.OptionSelected) -> None:
        problem = self.problems[event.option_index]
        self.editor.cursor_location = (problem.line - 1, max(0, problem.column - 1))
        self.editor.focus()

    def action_problem(self, step: int) -> None:
        """Puts the cursor on the next (``step`` 1) or previous (-1) problem after the
        cursor, round to the other end, and shows it highlighted in the list."""
        if not self.problems:
            self.notify("no problems in the YAML", timeout=3)
            return
        here = self.editor.cursor_location
        places = [(p.line - 1, max(0, p.column - 1)) for p in self.problems]
        order = sorted(range(len(places)), key=lambda i: places[i])
        if step > 0:
            chosen = next((i for i in order if places[i] > here), order[0])
        else:
            chosen = next((i for i in reversed(order) if places[i] < here), order[-1])
        self.editor.cursor_location = places[chosen]
        self.editor.scroll_cursor_visible()
        self.query_one("#problems", OptionList).highlighted = chosen

    def action_save(self) -> None:
        self.post_message(self.SaveRequested(self.editor.text))
