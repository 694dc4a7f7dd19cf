"""Asked before the app leaves a run whose YAML pane holds edits not yet saved (another
file, compare, quit): save them, discard them, or go back to editing."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class UnsavedScreen(ModalScreen[bool]):
    """Dismissed with ``True`` when the app may go on (saved or discarded), ``False`` to
    stay with the edits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "save", "Save"),
        Binding("d", "discard", "Discard"),
        Binding("escape,c", "cancel", "Cancel", key_display="esc"),
    ]

    def __init__(self, going: str, save: Callable[[str], str | None], *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        """``going``: what the user asked for ("quit"); ``save``: saves the edits and
        returns ``None``, or why they were not saved; it is told how this dialog saves once
        more, to name in that answer."""
        super().__init__(name=name, id=id, classes=classes)
        self.going = going
        self._save = save

    def compose(self) -> ComposeResult:
        with Vertical(id="unsaved"):
            yield Static(f"The YAML pane has unsaved edits. Save them before you "
                         f"{self.going}?", id="unsaved-question")
            yield Static("", id="unsaved-problem")
            with Horizontal(id="unsaved-choices"):
                yield Button("Save (s)", id="save", variant="primary")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Cancel (esc)", id="cancel")

    @on(Button.Pressed)
    async def _pressed(self, event: Button.Pressed) -> None:
        await self.run_action(event.button.id or "cancel")

    def action_save(self) -> None:
        problem = self._save("Press s again to overwrite it")
        if problem is None:
            self.dismiss(True)
            return
        # the edits cannot be saved as they are: the user may still discard them, or go
        # back and fix them, so the question stays
        self.query_one("#unsaved-problem", Static).update(
            f"{problem}. Discard them (d), or go back to them (esc).")
        self.add_class("-refused")

    def action_discard(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
