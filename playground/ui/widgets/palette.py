"""State colours shared by every pane, as component classes styled from theme variables.

A pane lists :data:`STATE_CLASSES` in its ``COMPONENT_CLASSES`` and puts
``state_rules("PaneName")`` in its ``DEFAULT_CSS``; then ``delivered`` (or ``failed``, ...)
looks the same in the diagram, the metrics and the log, in every theme.
"""

from __future__ import annotations

from playground.ui.theme_files import STATES

STATE_CLASSES = frozenset(f"state--{s}" for s in STATES)


def state_rules(widget: str) -> str:
    return "\n".join(f"{widget} > .state--{s} {{ color: $state-{s}; }}" for s in STATES)
