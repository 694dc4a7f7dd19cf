"""A run read back from the widgets: the burst example's queue fills and drains."""

from __future__ import annotations

import re

from playground.ui.widgets.metrics_pane import COLUMNS, LedgerBar, MetricsTable
from tests.ui.conftest import SIZE, MakeApp, run_to


def depth_shown(table: MetricsTable, node: str) -> float:
    """The depth column of ``node``'s row, as the pane prints it (``6.3k`` -> 6300)."""
    header, *rows = table.text_lines()
    row = next(r for r in rows if r.startswith(node + " "))
    end = header.index("depth") + len("depth")  # columns are right-aligned to their title
    width = dict(COLUMNS)["depth"]
    text = row[end - width:end].strip()
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


async def test_a_narrow_pane_drops_whole_figures_from_the_ledger_lines(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await run_to(pilot, 20)
        ledger = screen.query_one(LedgerBar)
        lines = [line.plain for line in ledger.lines()]
        assert lines[2].startswith("clients ok ")
        assert re.search(r"lost \d", lines[1])  # the ledger's alarm gives way last
        for line in lines:
            assert len(line) <= ledger.size.width
            # every label shown has its figure: nothing ends half-way through an item
            assert not re.search(r"(ok|errors|p50|p99|now|created|delivered|failed)\s*$", line)
        assert "now" not in lines[2] or re.search(r"now \S+ ok / \S+ err$", lines[2])


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
