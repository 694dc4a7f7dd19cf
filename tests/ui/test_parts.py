"""The app's pure parts: layout, routing, reload plans, round-trip edits, figures, the tap."""

from __future__ import annotations

import pytest

from playground.engine import events as ev
from playground.engine.bus import EventBus
from playground.spec import load_file, load_text
from playground.ui import figures
from playground.ui.diagram_geometry import geometry
from playground.ui.diagram_layout import Edge, grid_layout
from playground.ui.diagram_paint import PaintOptions, paint
from playground.ui.event_text import line
from playground.ui.frame import ClockView, Frame
from playground.ui.reload_plan import plan
from playground.ui.tap import Tap
from playground.ui.theme_files import ThemeFile, load_themes
from playground.ui.trace_index import TraceIndex
from playground.ui.widgets.canvas import Canvas
from playground.ui.yaml_edit import EditError, node_values, set_node_field
from playground.ui.yaml_tokens import spans
from tests.ui.conftest import TOPOLOGIES


def topology(name: str):  # type: ignore[no-untyped-def]
    return load_file(TOPOLOGIES / f"{name}.yaml", lint=False).require()


def test_columns_follow_the_flow_and_dlqs_sit_below_their_queues() -> None:
    t = topology("event-driven").model_copy(update={"layout": {}})
    cells = grid_layout(t).cells
    assert [cells[n][0] for n in ("clients", "api", "order-queue", "create-order", "orders")] \
        == [0, 1, 2, 3, 4]
    assert cells["order-dlq"] == (cells["order-queue"][0], cells["order-queue"][1] + 1)


def test_layout_hints_win() -> None:
    t = topology("showcase")
    cells = grid_layout(t).cells
    assert all(cells[n] == tuple(xy) for n, xy in t.layout.items())


def test_every_example_lays_out_without_overlaps() -> None:
    for path in sorted(TOPOLOGIES.glob("*.yaml")):
        t = load_file(path, lint=False).require()
        grid = grid_layout(t)
        assert len(set(grid.cells.values())) == len(grid.cells), path.name
        geo = geometry(grid, 120, 20)
        boxes = list(geo.boxes.values())
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a.right < b.x or b.right < a.x or a.bottom < b.y or b.bottom < a.y
        for edge, cells in geo.paths.items():
            assert cells, edge
            target = geo.boxes[edge.target]
            last = cells[-1]
            assert (last[0] == target.x - 1 and target.y <= last[1] <= target.bottom) or \
                (target.x <= last[0] <= target.right and last[1] in (target.y - 1,
                                                                      target.bottom + 1))


LOOP = """
version: 1
name: loop
nodes:
  p: {kind: producer, rate: 1/s, to: q}
  q: {kind: queue, to: f}
  f: {kind: function, to: q}
"""


def test_a_loop_back_is_routed_below() -> None:
    t = load_text(LOOP).require()
    grid = grid_layout(t)
    geo = geometry(grid, 80, 12)
    back = geo.paths[Edge("f", "q")]
    assert max(y for _, y in back) > geo.boxes["f"].bottom


def painted(t, edges: dict[tuple[str, str], float], width: int, height: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The diagram's text with the given edge rates, no app needed."""
    geo = geometry(grid_layout(t), width, height)
    frame = Frame(t=0.0, nodes={}, ledger={}, client={}, end_to_end={}, edges=edges,
                  outcomes={}, lines=[], clock=ClockView(mode="virtual", speed=1.0,
                                                         paused=True))
    canvas = Canvas(geo.width, geo.height)
    paint(canvas, geo, t, frame, PaintOptions())
    return [text for text, _ in canvas.rows()]


def test_a_rate_label_reads_left_to_right_on_an_edge_running_back() -> None:
    rows = "\n".join(painted(load_text(LOOP).require(), {("f", "q"): 19.0}, 80, 12))
    assert "19/s" in rows and "s/91" not in rows


def test_a_rate_label_reads_left_to_right_where_a_layout_hint_bends_an_edge_back() -> None:
    t = topology("request-response")
    t = t.model_copy(update={"layout": {**t.layout, "orders": [2, 1]}})
    rows = "\n".join(painted(t, {("create-order", "orders"): 20.0}, 120, 20))
    assert "20/s" in rows and "s/02" not in rows


def test_reload_plan_live_for_fields_restart_for_structure() -> None:
    old = topology("event-driven")
    text = (TOPOLOGIES / "event-driven.yaml").read_text()
    live = plan(old, load_text(text.replace("rate: 20/s", "rate: 40/s", 1)).require())
    assert live.live and live.changes == {"clients": {"rate": 40.0}}
    same = plan(old, load_text(text).require())
    assert same.live and not same.changes
    reseeded = plan(old, load_text(text.replace("\nseed: 1\n", "\nseed: 2\n")).require())
    assert not reseeded.live and reseeded.reason == "the seed changed"
    longer = plan(old, load_text(text.replace("\nduration: 60s\n", "\nduration: 2m\n")).require())
    assert longer.live and not longer.changes  # the app's run is not bound by it
    api = old.nodes["api"].model_copy(update={"to": ["order-dlq"]})
    rewired = plan(old, old.model_copy(update={"nodes": {**old.nodes, "api": api}}))
    assert not rewired.live and rewired.reason == "api changed its `to`"
    warm = old.nodes["create-order"].model_copy(update={"provisioned": 2})
    rewarmed = plan(old, old.model_copy(update={"nodes": {**old.nodes, "create-order": warm}}))
    assert not rewarmed.live
    assert rewarmed.reason == ("create-order changed `provisioned`, which a run takes when "
                               "it starts")


def test_round_trip_edit_keeps_comments_and_flow_style() -> None:
    text = "# top\nversion: 1\nnodes:\n  a: {kind: store, latency: 5ms}  # fast\n" \
           "  b:\n    kind: queue   # kept\n    to: f\n"
    out = set_node_field(text, "a", "latency", "9ms")
    assert out == text.replace("latency: 5ms", "latency: 9ms")
    out = set_node_field(text, "b", "capacity", "100")
    assert "# kept" in out and "capacity: 100" in out and out.startswith("# top")
    assert node_values(out, "b")["capacity"] == "100"
    with pytest.raises(EditError):
        set_node_field(text, "missing", "latency", "1s")


def test_yaml_highlighter_spans() -> None:
    found = [(k, s) for s, e, k in spans("  rate: 20/s  # per second")
             for s in ["  rate: 20/s  # per second"[s:e]]]
    assert ("key", "rate") in found and ("number", "20/s") in found
    assert ("comment", "# per second") in found


def test_figures_read_short() -> None:
    assert figures.count(6300) == "6.3k"
    assert figures.rate(0.5) == "0.5/s"
    assert figures.duration(0.0123) == "12ms"
    assert figures.sparkline([0, 1, 2, 4], 4) == " ▂▄█"
    assert len(figures.sparkline(list(range(60)), 10)) == 10
    shown = {figures.name(n, 9) for n in ("warehouse-queue", "warehouse-dlq")}
    assert shown == {"ware…ueue", "ware…-dlq"}
    assert figures.name("orders", 9) == "orders" and figures.name("shoppers", 7) == "sho…ers"


def test_talk_modes_p99_is_a_dash_before_the_first_ok_answer() -> None:
    from types import SimpleNamespace

    from playground.ui.widgets.big_counters import counter_values

    def frame(ok: int, p99: float) -> SimpleNamespace:
        return SimpleNamespace(client={"ok": ok, "errors": 3, "latency": {"p99": p99}},
                               nodes={}, ledger={"delivered": 0})

    assert counter_values(frame(0, 0.0))["p99"] == "-"  # only errors so far
    assert counter_values(frame(5, 0.1234))["p99"] == "123"


def test_the_clock_never_reads_sixty_seconds() -> None:
    assert figures.sim_clock(59.94) == " 59.9s"
    assert figures.sim_clock(59.96) == "1:00.0"
    assert figures.sim_clock(119.97) == "2:00.0"
    assert figures.sim_clock(659.99) == "11:00.0"
    assert figures.sim_clock(125.04) == "2:05.0"


def test_tap_measures_edges_and_outcome_mixes() -> None:
    tap = Tap()
    bus = EventBus()
    tap.attach(bus)
    for i in range(10):
        bus.emit(ev.MessageSent(1.0 + i / 10, "p", f"m{i}", f"m{i}", "api"))
    for i in range(4):
        bus.emit(ev.MessageThrottled(1.5, "api", f"m{i}", f"m{i}", "throttle"))
    sample = tap.take(6.0)
    assert sample.edges[("p", "api")] == pytest.approx(10 / 5)
    assert sample.outcomes["api"]["throttled"] == pytest.approx(0.4)
    assert len(sample.notable) == 4 and tap.take(6.0).notable == []


def test_trace_index_is_bounded_and_follows_a_trace() -> None:
    index = TraceIndex(keep=8, hops=3)
    for i in range(5):  # five traces of four hops, one chunk each
        index.add([ev.MessageSent(hop, "p", f"m{i}", f"t{i}", "q") for hop in range(4)])
    assert len(index) <= 8 + 4 and index.hops("t0") == []
    assert [e.t for e in index.hops("t4")] == [0, 1, 2]  # at most three hops
    index.follow("t5")
    index.add([ev.MessageSent(9, "p", "m5", "t5", "q"), ev.MessageSent(9, "p", "m6", "t6", "q")])
    assert [e.trace for e in index.hops("t5")] == ["t5"]


def test_event_lines_read_as_words() -> None:
    entry = line(ev.MessageDeadLettered(3.0, "q", "m1", "t1", "dlq", "5 receives"))
    assert entry.category == "dlq" and entry.text == "-> dlq (5 receives)"
    assert entry.matches("dlq", "receives") and not entry.matches("error", "")


def test_themes_load_and_are_checked() -> None:
    themes, problems = load_themes()
    assert not problems
    names = {t.name for t in themes}
    assert {"dark", "light", "high-contrast", "colour-blind"} <= names
    for theme in themes:
        assert set(theme.variables) >= {"state-delivered", "state-failed", "state-throttled"}
    with pytest.raises(ValueError):
        ThemeFile.model_validate({"name": "x", "primary": "not-a-colour"})


def test_a_broken_theme_file_is_a_problem_not_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "good.yaml").write_text("name: good\nprimary: '#336699'\n")
    (tmp_path / "bad.yaml").write_text("name: bad\nprimary: '#336699'\nstates: {lost: red}\n")
    themes, problems = load_themes(tmp_path)
    assert [t.name for t in themes] == ["good"]
    assert len(problems) == 1 and problems[0].file == "bad.yaml" and "lost" in problems[0].message
    assert "states.lost" in problems[0].message and "delivered" in problems[0].message


@pytest.mark.parametrize(("text", "said"), [
    ("name: bad\nprimary: '#12345G'\n",
     "themes/bad.yaml:2:10: primary: '#12345G' is not a colour; valid: a colour such as"),
    ("name: bad\nprimary: '#123456\n  states: [\n",
     "themes/bad.yaml:2:10: YAML syntax: found unexpected end of stream"),
    ("", "themes/bad.yaml: the file is empty; valid: name: my-theme and primary:"),
    ("- a list\n", "themes/bad.yaml:1:1: the file is not a mapping of fields; valid: name:"),
    ("name: bad\nprimary: red\nsparkle: true\n",
     "themes/bad.yaml:3:1: unknown field sparkle; valid: name, dark, primary,"),
    ("name: bad\nprimary: red\nstates: {deliverd: red}\n",
     "themes/bad.yaml:3:10: unknown state states.deliverd; valid: delivered, retried,"),
    ("name: bad\nprimary: red\nstates: {delivered: 12}\n",
     "themes/bad.yaml:3:21: states.delivered: 12 is not a colour; valid: a colour such as"),
    ("name: Bad Name\nprimary: red\n",
     "themes/bad.yaml:1:7: name: 'Bad Name' is not a theme name; valid: lower-case letters"),
    ("name: bad\n", "themes/bad.yaml:1:1: primary is missing; valid: a colour such as"),
    ("name: bad\nprimary: red\ndark: maybe\n",
     "themes/bad.yaml:3:7: dark: 'maybe' is not true or false; valid: true"),
])
def test_a_broken_theme_is_one_line_a_problem_naming_file_place_and_what_is_valid(
        tmp_path, text: str, said: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "bad.yaml").write_text(text)
    themes, problems = load_themes(folder)
    assert themes == [] and len(problems) == 1
    shown = str(problems[0])
    assert shown.startswith(said), shown
    assert "\n" not in shown and "pydantic" not in shown and "<unicode string>" not in shown


def test_a_theme_that_is_not_utf8_is_named_with_its_line_and_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "latin.yaml").write_bytes(b"name: latin\nprimary: red\n# caf\xe9\n")
    _, problems = load_themes(tmp_path)
    assert [str(p).split(": ", 1)[0] for p in problems] == [f"{tmp_path.name}/latin.yaml:3:6"]
    assert "not UTF-8" in problems[0].message


def test_a_second_theme_of_the_same_name_is_refused_and_the_shipped_one_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "themes"
    folder.mkdir()
    for shipped in ("dark", "light"):
        (folder / f"{shipped}.yaml").write_text(f"name: {shipped}\nprimary: '#4C9BE8'\n")
    (folder / "a-copy.yaml").write_text("name: dark\nprimary: '#FF0000'\n")
    themes, problems = load_themes(folder)
    assert [(t.name, t.primary) for t in themes] == [("dark", "#4C9BE8"), ("light", "#4C9BE8")]
    assert len(problems) == 1
    assert str(problems[0]).startswith(
        "themes/a-copy.yaml:1:7: name: 'dark' is already the name of dark.yaml; valid: a name "
        "no other theme has")
