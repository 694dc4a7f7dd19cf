"""The top line: what runs, the simulated time, the speed and whether time is moving; for a
run linked to MQTT, the broker's address and state (never a password)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from playground.ui import figures
from playground.ui.frame import Frame
from playground.ui.widgets.lines import OneLine
from playground.ui.widgets.palette import STATE_CLASSES, state_rules

MQTT_STYLES = {"connected": "status--mqtt-up", "connecting": "status--mqtt-waiting",
               "reconnecting": "status--mqtt-waiting"}
"""The style of each state of the link (``MqttLink.status()``); any other is down."""
WORST_FIRST = ("closed", "reconnecting", "connecting", "connected")
# What gives way, in turn, when the line is wider than the bar (only with MQTT): the
# broker's host (its port stays), the achieved speed, the port, and last the words of the
# counts (``↻3`` for ``3 reconnects``). (address shown, achieved speed shown, counts short)
DETAILS = (("host", True, False), ("port", True, False), ("port", False, False),
           ("", False, False), ("", False, True))


def broker_address(url: str, show: str = "host") -> str:
    """``HOST:PORT`` of a broker's URL (``mqtts://HOST:PORT`` for TLS), never the user or a
    password; ``show="port"``: ``:PORT`` alone; ``""``: nothing."""
    scheme, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0].rpartition("@")[2]  # no userinfo, ever
    if show == "port":
        _, colon, port = authority.rpartition(":")
        return f":{port}" if colon and not port.endswith("]") else ""
    if not show:
        return ""
    return f"mqtts://{authority}" if scheme == "mqtts" else authority


class StatusBar(OneLine, Widget):
    COMPONENT_CLASSES = STATE_CLASSES | {"status--name", "status--label", "status--paused",
                                         "status--running", "status--mqtt-up",
                                         "status--mqtt-waiting", "status--mqtt-down"}
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary-muted; }
    StatusBar > .status--name { color: $text; text-style: bold; }
    StatusBar > .status--label { color: $text-muted; }
    StatusBar > .status--paused { color: $text-warning; text-style: bold; }
    StatusBar > .status--running { color: $text-success; text-style: bold; }
    StatusBar > .status--mqtt-up { color: $text-success; }
    StatusBar > .status--mqtt-waiting { color: $text-warning; text-style: bold; }
    StatusBar > .status--mqtt-down { color: $text-error; text-style: bold; }
    """ + state_rules("StatusBar")

    title: var[str] = var("")
    """The topology's name (and file)."""
    frame: var[Frame | None] = var(None, always_update=True)
    """The newest frame."""
    note: var[str] = var("")
    """A short note after the figures (restarted, invalid file...)."""
    stopped: var[str] = var("")
    """Why the engine stopped on its own (its rows could not be written...); "" while it
    runs. Its last frame stays on screen, and must not go on saying it runs."""

    def watch_frame(self) -> None:
        self._changed()

    def watch_title(self) -> None:
        self._changed()

    def watch_note(self) -> None:
        self._changed()

    def watch_stopped(self) -> None:
        self._changed()

    def line(self, width: int | None = None) -> Text:
        """The line in full, or with ``width`` the fullest that fits (see :data:`DETAILS`;
        what still does not fit is cut at the end)."""
        frame = self.frame
        if frame is None or not frame.mqtt:
            return self._text()
        text = Text()
        for address, achieved, short in DETAILS:
            text = self._text(address, achieved, short)
            if width is None or text.cell_len <= width:
                break
        return text

    def _text(self, address: str = "host", achieved: bool = True,
              short: bool = False) -> Text:
        text = Text(" ")
        text.append(self.title, self._style("status--name"))
        frame = self.frame
        if frame is not None:
            clock = frame.clock
            text.append("   t ", self._style("status--label"))
            text.append(figures.sim_clock(frame.t).strip())
            text.append("   speed ", self._style("status--label"))
            text.append(f"{clock.speed:g}x")
            if self.stopped:
                text.append(f"   ■ stopped: {self.stopped}", self._style("status--mqtt-down"))
            elif clock.held_at is not None:
                held = figures.sim_clock(clock.held_at).strip()
                text.append(f"   ⏸ held at {held}", self._style("status--paused"))
            elif clock.paused:
                text.append("   ⏸ paused", self._style("status--paused"))
            else:
                text.append("   ▶ running", self._style("status--running"))
            if achieved and clock.achieved is not None and not clock.paused \
                    and not self.stopped:
                text.append(f"   achieved {figures.speed(clock.achieved)}x",
                            self._style("status--label"))
            if frame.mqtt:
                self._mqtt(text, frame.mqtt, address, short)
            if frame.dropped:
                text.append(f"   {figures.count(frame.dropped)} events not shown",
                            self._style("state--retried"))
        if self.note:
            text.append("   " + self.note, self._style("status--label"))
        return text

    def _mqtt(self, text: Text, status: dict[str, Any], address: str, short: bool) -> None:
        """``MQTT 127.0.0.1:1883 connected, 2 reconnects, tap −1.2k``: the broker (only
        host and port: the status's url has no password, and the user is left out too), the
        link's state, reconnections so far and the tap's events left out or dropped
        (``short``: ``MQTT reconnecting ↻2 tap −1.2k``)."""
        state = str(status.get("state", "off"))
        url = status.get("url")
        where = broker_address(url, address) if isinstance(url, str) and url else ""
        if not url:  # no broker: only producers fed by a source (their worst state)
            states = {str(s.get("state")) for s in (status.get("sources") or {}).values()}
            if not states:
                return
            state = next((s for s in WORST_FIRST if s in states), sorted(states)[0])
            where = "source"
        text.append("   MQTT ", self._style("status--label"))
        if where:
            text.append(where + " ")
        text.append(state, self._style(MQTT_STYLES.get(state, "status--mqtt-down")))
        reconnects = int(status.get("reconnects") or 0)
        comma = " " if short else ", "
        if reconnects:
            said = f"↻{reconnects}" if short else \
                f"{reconnects} reconnect{'s' if reconnects > 1 else ''}"
            text.append(comma + said, self._style("status--label"))
        dropped = int(status.get("tap_dropped") or 0)
        if dropped:
            text.append(f"{comma}tap −{figures.count(dropped)}", self._style("state--retried"))
        # a split gone wrong: the run's figures mean little until it is fixed
        twice = status.get("conflict_nodes") or []
        missing = status.get("missing") or []
        if twice:
            said = "runs twice" if short else f"{', '.join(twice)} also run elsewhere"
            text.append(comma)
            text.append(said, self._style("status--mqtt-down"))
        elif missing:
            said = "nodes missing" if short else f"no process runs {', '.join(missing)}"
            text.append(comma)
            text.append(said, self._style("status--mqtt-waiting"))
