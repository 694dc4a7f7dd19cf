"""The picker: the examples in ``topologies/`` with their descriptions, or a path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from playground.ui import topology_file
from playground.ui.catalog import Example
from playground.ui.widgets.key_footer import KeyFooter


class PickerScreen(Screen[Path]):
    """Dismisses with the chosen file's path."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Back", show=False)]

    def __init__(self, examples: list[Example], *, cancellable: bool = False,
                 refuse: Callable[[Path, str], str | None] | None = None,
                 refused: str = "Cannot open", name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        """``refuse(path, text)``: why the file read will not do here (None: it will), said
        in a notice titled ``refused``."""
        super().__init__(name=name, id=id, classes=classes)
        self.examples = examples
        self.cancellable = cancellable
        self.refuse = refuse
        self.refused = refused

    def compose(self) -> ComposeResult:
        yield Static("Pick a topology to run  (enter opens; or type a path below)",
                     id="picker-title")
        with Horizontal():
            yield OptionList(*(self._option(e) for e in self.examples), id="examples")
            with Vertical(id="description"):
                yield Markdown(id="description-text")
        yield Input(placeholder="or open a file: path/to/topology.yaml", id="path")
        yield KeyFooter(compact=True)

    @staticmethod
    def _option(example: Example) -> Option:
        label = Text(example.path.name, style="bold")
        if not example.ok:
            label.append("  (has errors)", style="italic")
        return Option(label, id=str(example.path))

    def on_mount(self) -> None:
        listing = self.query_one("#examples", OptionList)
        listing.border_title = "topologies/"
        listing.highlighted = 0 if self.examples else None
        listing.focus()
        self._describe(0)

    def _describe(self, index: int | None) -> None:
        if index is None or not self.examples:
            return
        example = self.examples[index]
        text = f"# {example.name}\n\n{example.description}"
        self.query_one("#description-text", Markdown).update(text)

    @on(OptionList.OptionHighlighted, "#examples")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._describe(event.option_index)

    @on(OptionList.OptionSelected, "#examples")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(self.examples[event.option_index].path)

    @on(Input.Submitted, "#path")
    def _typed(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if typed:
            self._open(Path(typed).expanduser())

    def _open(self, path: Path) -> None:
        # tried here: a file the app cannot read must leave the running session as it was
        try:
            text = topology_file.read(path).text
        except topology_file.FileRefused as error:
            self.notify(str(error), title="Cannot open", severity="error", timeout=10)
            return
        why = self.refuse(path, text) if self.refuse is not None else None
        if why is not None:
            self.notify(why, title=self.refused, severity="error", timeout=10)
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        if self.cancellable:
            self.dismiss()
