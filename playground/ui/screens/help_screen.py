"""``?``: every key, what the panes show and how the modes work."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from playground.ui.controls import APP_CONTROLS, RUN_CONTROLS, Control

GUIDE = """
## Panes

- **Diagram**: nodes by flow, left to right; DLQs below their queues. Dots moving on an edge
  are messages (sampled when there are more than fit; the true rate is printed on the edge),
  coloured by what happens where they arrive: delivered, retried, failed, throttled,
  dead-lettered. Queues show depth (█ visible, ▒ in flight) against capacity; functions their
  instances (■ busy, ◐ cold start, □ idle, · free); gateways and stores their tokens (429 when
  throttling). Click a node or use the arrows to select it.
- **Metrics**: a row per node and a sparkline of the last minute; the ledger and what the
  clients saw are always at the bottom (`lost` turns red if it was ever above zero).
- **Events**: errors, retries, throttles, DLQ moves and scenario captions. Type to filter
  (`esc` leaves the box), `f` cycles the kind, arrows choose a line and enter follows its
  message hop by hop.
- **Inspector**: the selected node's fields and live figures. Choose a field, type a value,
  enter: it applies now and is written into the file (comments kept). A store's names the
  run's SQLite file, where its rows arrive every second.
- **YAML**: the file, checked as you type; `ctrl+s` saves and applies (live when only fields
  changed, otherwise the run restarts and says so). A file with errors is never saved;
  `f8` / `shift+f8` go to the next / previous problem.
  With unsaved edits, `ctrl+o`, `ctrl+k` and `ctrl+q` ask first: `s` save, `d` discard,
  `esc` back to the editor.

Panes resize with `[` `]` `{` `}`, or by dragging the top border of the lower panes or the
left border of the side panes; `z` maximises the focused one.

## Modes

- **Talk mode** (`t`): the diagram full screen, big counters, captions as a banner. `n` runs
  to the next scenario step and holds there; space goes on.
- **Compare mode** (`ctrl+k`, or `--compare FILE2`): two topologies side by side, the same
  traffic and seed, on linked clocks; the difference in client errors, p99 and peak store
  writes is shown between them. The timeline holds both sides' steps (`n` runs to the next
  of either) and each side's captions show under its title. The controls act on both sides
  where the node exists. The arrows go on past one side's last node into the other side's
  diagram (down and up when one is above the other, right and left side by side). Talk
  mode, the side panes and the pane keys (`t`, `z`, `1`-`5`, `[` `]` `{` `}`) are the run
  screen's only.
"""


def _table(title: str, controls: tuple[Control, ...]) -> str:
    rows = [f"## {title}", "", "| key | does |", "|---|---|"]
    for control in controls:
        key = control.key_display or control.key.split(",")[0]
        rows.append(f"| `{key}` | {control.help} |")
    return "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen under it (``controls``, headed ``title``)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, title: str = "Run", controls: tuple[Control, ...] = RUN_CONTROLS, *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.heading = title
        self.controls = controls

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown("\n\n".join([
                "# playground: keys and panes", _table(self.heading, self.controls),
                _table("Everywhere", APP_CONTROLS), GUIDE]))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
