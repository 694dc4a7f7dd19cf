"""Compare mode's two sides share the screen fairly: neither diagram loses its boxes."""

from __future__ import annotations

from playground.ui import figures
from playground.ui.screens.compare_screen import CompareScreen
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.metrics_pane import LedgerBar
from tests.ui.conftest import MakeApp, run_to


def first_row_height(diagram: DiagramPane) -> int:
    """Rows from the top of the diagram to the bottom of its first row of boxes."""
    assert diagram.geo is not None
    top = min(box.y for box in diagram.geo.boxes.values())
    return max(box.bottom for box in diagram.geo.boxes.values() if box.y == top) + 1


async def test_one_above_the_other_both_diagrams_keep_their_boxes_whole(
        make_app: MakeApp) -> None:
    app = make_app("burst-request-response", compare="burst-event-driven")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_to(pilot, 18)  # into the flash sale: A's clients line wraps
        assert isinstance(screen, CompareScreen)
        await pilot.pause(0.2)
        assert screen.query_one("#ledger-a", LedgerBar).line_count == 4
        # each side's caption is too long for a line: it keeps to one, cut with an ellipsis
        for side in ("a", "b"):
            assert screen.query_one(f"#caption-{side}").region.height == 1
        for side in ("a", "b"):
            diagram = screen.query_one(f"#diagram-{side}", DiagramPane)
            # B's DLQ, a row below, is left to scroll to: 24 rows cannot hold it as well
            assert diagram.scrollable_content_region.height >= first_row_height(diagram), side
            ledger = screen.query_one(f"#ledger-{side}", LedgerBar)
            assert ledger.region.height == ledger.line_count  # nothing pushed off
            assert screen.region.contains_region(ledger.region)


def inside(diagram: DiagramPane, node: str, row: int) -> str:
    """The text between ``node``'s borders on its ``row``-th line (0: the top border)."""
    assert diagram.geo is not None
    box = diagram.geo.boxes[node]
    return diagram.text_lines()[box.y + row][box.x + 1:box.right]


async def test_side_by_side_narrow_boxes_shorten_their_figures_never_cut_them(
        make_app: MakeApp) -> None:
    app = make_app("burst-request-response", compare="burst-event-driven")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await run_to(pilot, 18)  # in the flash sale: shoppers at 500/s, x10
        await pilot.pause(0.2)
        a, b = (screen.query_one(f"#diagram-{side}", DiagramPane) for side in ("a", "b"))
        assert abs(a.region.width - b.region.width) <= 1  # the sides share the width
        assert b.geo is not None and b.frame is not None
        box_h = b.geo.boxes["place-order"].h
        gauge_row = 2 if box_h >= 4 else box_h - 1  # under the id, or on the bottom border
        kinds = {node: inside(b, node, 0).rstrip("─") for node in b.geo.boxes}
        assert kinds["shoppers"] in ("producer", "prod")
        assert kinds["place-order"] in ("function", "func")
        gauges = b.frame.nodes["place-order"]["gauges"]
        assert inside(b, "place-order", gauge_row).endswith(
            f"{gauges['busy']}/{gauges['concurrency']}")
        assert inside(b, "orders", gauge_row).strip().split()[-1] in (
            "429", figures.rate(b.frame.nodes["orders"].get("rate_in", 0)))
        producer = inside(b, "shoppers", gauge_row).strip()
        assert producer.startswith(figures.rate(b.frame.nodes["shoppers"]["gauges"]["rate"]))
        assert producer.endswith(("/s", "×10"))
