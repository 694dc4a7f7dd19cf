"""A run read back from the widgets: the burst example's queue fills and drains."""

from __future__ import annotations

import re

from playground.ui.widgets.metrics_pane import COLUMNS, LedgerBar, MetricsTable
from tests.ui.conftest import SIZE, MakeApp, run_to


def cell(table: MetricsTable, node: str, column: str) -> str:
    """``column`` of ``node``'s row, as the pane prints it."""
    header, *rows = table.text_lines()
    row = next(r for r in rows if r.startswith(node + " "))
    end = header.index(column) + len(column)  # columns are right-aligned to their title
    return row[end - dict(COLUMNS)[column]:end].strip()


def depth_shown(table: MetricsTable, node: str) -> float:
    """The depth column of ``node``'s row (``6.3k`` -> 6300)."""
    text = cell(table, node, "depth")
    return float(text.rstrip("k")) * (1000 if text.endswith("k") else 1)


async def test_the_burst_fills_the_queue_and_it_drains(make_app: MakeApp) -> None:
    app = make_app("burst-event-driven")
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        for t in (10, 20, 30, 35, 50, 70, 90):
            screen = await run_to(pilot, t)
            seen.append(depth_shown(screen.query_one(MetricsTable), "order-queue"))
        before, *_, peak_at_35, _, _, after = seen
        assert before < 20
        assert seen == sorted(seen[:4]) + seen[4:]  # rising through the burst
        assert peak_at_35 > 4000  # about 6,300 by the description
        assert seen[4] > seen[5] > after  # then falling
        assert after < 50  # empty again by about 85 s


async def test_long_node_names_leave_room_for_the_sparklines(make_app: MakeApp) -> None:
    app = make_app("showcase")  # ids up to 15 characters (warehouse-queue)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 30)
        header, *rows = screen.query_one(MetricsTable).text_lines()
        assert "60s" in header
        shoppers = next(r for r in rows if r.startswith("shoppers"))
        assert any(ch in shoppers for ch in "▁▂▃▄▅▆▇█")  # 30/s for half a minute
        names = [r.split()[0] for r in rows]
        assert len(set(names)) == len(names)  # cut in the middle, still apart


async def test_a_queue_nobody_received_from_shows_no_wait(make_app: MakeApp) -> None:
    app = make_app("poison-with-dlq")  # its DLQ has no consumer: nothing is ever received
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 10)
        table = screen.query_one(MetricsTable)
        # received at once: waits of 0 to a few ms
        assert [cell(table, "orders", c) for c in ("p50", "p99")] == ["0ms", "0ms"]
        # not "0ms" as if it were an instant wait: there is no wait at all
        assert [cell(table, "orders-dlq", c) for c in ("p50", "p99")] == ["-", "-"]


def test_a_duration_that_rounds_up_reads_in_the_next_unit() -> None:
    from playground.ui import figures
    assert [figures.duration(s) for s in (59.6, 9.96, 0.9996, 0.00999, 0.0009999)] == [
        "1m00s", "10s", "1.0s", "10ms", "1.0ms"]


LEDGER_LABELS = ("created", "delivered", "failed", "expired", "unmatched", "in system",
                 "in DLQs", "lost")
CLIENT_LABELS = ("ok", "errors", "p50", "p99", "now")


async def test_a_narrow_pane_wraps_the_ledger_and_drops_no_figure(make_app: MakeApp) -> None:
    app = make_app("poison-with-dlq")  # a DLQ that fills: every figure of the ledger counts
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await run_to(pilot, 62)
        ledger = screen.query_one(LedgerBar)
        # the YAML pane, then a side pane as wide as it goes, then lower panes as short
        for size, keys in (((140, 45), ()), ((140, 45), ("5",)), ((80, 24), ()),
                           ((80, 24), ("right_curly_bracket",) * 8),
                           ((80, 24), ("left_square_bracket",) * 8)):
            await pilot.resize_terminal(*size)
            await pilot.press(*keys)
            await pilot.pause()
            await pilot.pause()
            lines = [line.plain.rstrip() for line in ledger.lines()]
            assert all(len(line) <= ledger.size.width for line in lines)
            # every label with its figure, whole, on the screen: none dropped or cut
            text = "  ".join(line.strip() for line in lines)
            for label in LEDGER_LABELS + CLIENT_LABELS:
                assert re.search(rf"(^|\s){label} \S", text), (size, label, lines)
            assert "in DLQs 1" in text
            region = ledger.region
            assert region.height == len(lines) and region.bottom < size[1]  # the footer's
            drawn = [strip.text for strip in screen._compositor.render_strips()]
            assert [row[region.x:region.right].rstrip()
                    for row in drawn[region.y:region.bottom]] == lines


async def test_no_answer_yet_reads_a_dash_for_the_clients_latency(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 5)
        ledger = screen.query_one(LedgerBar)
        assert re.search(r"p50 \d+ms  p99 \d+ms", ledger.lines()[2].plain)
        await pilot.press("ctrl+r")
        await screen.refresh_frame()
        await pilot.pause()
        clients = ledger.lines()[2].plain
        assert "ok -" in clients and "p50 -  p99 -" in clients, clients
