"""The YAML pane (validated as you type, ctrl+s saves and hot-reloads) and the inspector
(a field edited applies at once and is written back into the file, comments kept)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any

from textual.widgets import Input, OptionList

from playground.ui.screens.run_screen import RunScreen
from playground.ui.widgets.diagram_pane import DiagramPane
from playground.ui.widgets.editor_pane import EditorPane, YamlEditor
from playground.ui.widgets.inspector_pane import FiguresView, InspectorPane
from playground.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import SIZE, MakeApp, checked, run_to


async def open_editor(pilot, screen: RunScreen) -> EditorPane:  # type: ignore[no-untyped-def]
    await pilot.press("5")
    await pilot.pause()
    pane = screen.query_one(EditorPane)
    pane.editor.focus()
    return pane


def pane_state(screen: RunScreen) -> str:
    """The YAML pane's state line as drawn on the screen (empty when it is not drawn)."""
    state = screen.query_one("#yaml-state")
    if not state.region:
        return ""
    row = screen._compositor.render_strips()[state.region.y].text
    return row[state.region.x:state.region.right]


async def test_an_error_is_marked_at_its_line_and_never_saved(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        pane = await open_editor(pilot, screen)
        line = before.splitlines().index("    concurrency: 20")
        pane.editor.cursor_location = (line, len("    concurrency: 20"))
        await pilot.press("backspace", "backspace", *"lots")
        await checked(pilot, pane)
        await pilot.pause()
        assert line in pane.editor.error_lines
        problems = screen.query_one("#problems", OptionList)
        assert problems.display and problems.option_count >= 1
        first = str(problems.get_option_at_index(0).prompt)
        assert first.startswith(f"{line + 1}:")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert path.read_text() == before  # never overwritten with something invalid
        assert "concurrency: lots" in pane.text  # and the buffer is not lost
        assert any("not saved" in n.message for n in app._notifications)
        assert "modified" in pane_state(screen) and "1 error" in pane_state(screen)
        problems.focus()
        problems.highlighted = 0
        await pilot.press("enter")
        assert pane.editor.cursor_location[0] == line


async def test_the_yaml_pane_shows_unsaved_edits_and_problems_also_after_a_restart(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 3)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        assert pane_state(screen).strip() == "saved"
        line = pane.text.splitlines().index("    concurrency: 20")
        pane.editor.cursor_location = (line, len("    concurrency: 20"))
        await pilot.press("backspace", "backspace", *"lots")
        await checked(pilot, pane)
        await pilot.pause()
        assert "modified" in pane_state(screen) and "1 error" in pane_state(screen)
        await pilot.press("ctrl+r")  # the run restarts from the file; the edit stays
        screen = await run_to(pilot, 1)
        assert "concurrency: lots" in pane.text
        assert "modified" in pane_state(screen) and "1 error" in pane_state(screen)
        await pilot.press(*["backspace"] * 4, "2", "0")
        await checked(pilot, pane)
        await pilot.pause()
        assert pane_state(screen).strip() == "saved"


async def test_the_problem_list_keeps_the_cursor_line_in_view(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        editor = pane.editor
        line = pane.text.splitlines().index("    concurrency: 20")
        editor.cursor_location = (line, len("    concurrency: 20"))
        await pilot.pause()
        height = editor.scrollable_content_region.height
        editor.scroll_to(y=line - height + 1, animate=False)  # typing on the lowest line
        await pilot.pause()
        await pilot.press("backspace", "backspace", *"lots")
        await checked(pilot, pane)
        await pilot.pause()
        assert screen.query_one("#problems", OptionList).display
        top = editor.scroll_offset.y
        assert top <= line < top + editor.scrollable_content_region.height


async def test_an_unclosed_brace_is_marked_where_it_opens(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        lines = pane.text.splitlines()
        line = lines.index("  clients:")
        lines[line] = "  clients: {kind: producer"  # never closed: the next line is fine
        pane.editor.text = "\n".join(lines) + "\n"
        await checked(pilot, pane)
        await pilot.pause()
        assert pane.editor.error_lines == {line}
        problems = screen.query_one("#problems", OptionList)
        assert str(problems.get_option_at_index(0).prompt).startswith(f"{line + 1}:12 ")
        problems.focus()
        problems.highlighted = 0
        await pilot.press("enter")
        assert pane.editor.cursor_location == (line, len("  clients: "))


async def test_a_field_edited_in_yaml_changes_live(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 2)
        assert isinstance(screen, RunScreen)
        old_host = screen.session.host
        pane = await open_editor(pilot, screen)
        pane.editor.text = pane.text.replace("    concurrency: 20", "    concurrency: 3")
        await pilot.press("ctrl+s")
        screen = await run_to(pilot, 3)
        assert screen.session.host is old_host  # no restart
        host = screen.session.host
        assert host is not None and host.engine is not None
        assert host.engine.nodes["checkout"].spec.concurrency == 3  # type: ignore[attr-defined]
        assert "concurrency: 3" in (screen.session.path.read_text())  # type: ignore[union-attr]
        assert any("changed live: checkout.concurrency" in n.message
                   for n in app._notifications)
        diagram = screen.query_one(DiagramPane)
        assert any("/3" in line for line in diagram.text_lines())  # the slots gauge


async def test_a_new_rate_takes_effect(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 6)
        frame = screen.frames[0]
        assert frame is not None and frame.node("clients")["rate_out"] < 40
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        assert "rate: 20/s" in pane.text
        pane.editor.text = pane.text.replace("rate: 20/s", "rate: 200/s", 1)
        await pilot.press("ctrl+s")
        screen = await run_to(pilot, 12)
        frame = screen.frames[0]
        assert frame is not None and frame.node("clients")["rate_out"] > 150


async def test_a_structural_change_restarts_and_says_so(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 5)
        assert isinstance(screen, RunScreen)
        old_host = screen.session.host
        pane = await open_editor(pilot, screen)
        text = pane.text.replace("\nscenario:", "\n  audit:\n    kind: store\nscenario:", 1)
        text = text.replace("to: orders\n", "to: [orders, audit]\n", 1)
        pane.editor.text = text
        await pilot.press("ctrl+s")
        screen = await run_to(pilot, 1)
        assert screen.session.host is not old_host
        assert old_host is not None and not old_host.running
        assert any("restarted" in n.message and "added audit" in n.message
                   for n in app._notifications)
        diagram = screen.query_one(DiagramPane)
        assert diagram.geo is not None and "audit" in diagram.geo.boxes


async def inspect(pilot: Any, node: str) -> tuple[RunScreen, InspectorPane]:
    """The run held at 1 s (or where it is), ``node`` selected, the inspector shown."""
    screen = await run_to(pilot, 1)
    assert isinstance(screen, RunScreen)
    screen.select(node)
    await pilot.press("4")
    return screen, screen.query_one(InspectorPane)


async def test_the_inspector_edits_a_field_and_writes_it_back(make_app: MakeApp) -> None:
    app = make_app("burst-event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "place-order")
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        await pilot.pause()
        assert "busy" in inspector.query_one(FiguresView).text()
        inspector.edit("concurrency")
        await pilot.pause()
        field_input = inspector.query_one("#field-input", Input)
        assert field_input.has_focus and field_input.value == "10"
        field_input.value = "25"
        await pilot.press("enter")
        screen = await run_to(pilot, 2)
        host = screen.session.host
        assert host is not None and host.engine is not None
        assert host.engine.nodes["place-order"].spec.concurrency == 25  # type: ignore[attr-defined]
        after = path.read_text()
        assert "    concurrency: 25\n" in after
        # everything else is as the user wrote it, comments and all
        assert after.replace("    concurrency: 25\n", "    concurrency: 10\n") == before
        assert "concurrency: 25" in screen.query_one(EditorPane).text
        options = inspector.query_one("#fields", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)]
        assert "concurrency: 25" in prompts


async def test_the_inspector_shows_defaults_as_the_file_would_write_them(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "send-email")
        await pilot.pause()
        options = inspector.query_one("#fields", OptionList)
        prompts = {str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)}
        for default in ("cold_start: 0", "idle_timeout: 5m", "errors: 0", "timeout: 3s",
                        "batch_window: 0", "max_event_age: 6h",
                        "backoff: {base: 1m, factor: 2, max: 5m, jitter: none}"):
            assert f"{default} (default)" in prompts, prompts
        inspector.edit("idle_timeout")  # and the box to edit it starts from the same
        await pilot.pause()
        assert inspector.query_one("#field-input", Input).value == "5m"
        screen.select("order-events")
        await pilot.pause()
        prompts = {str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)}
        assert "backoff: {base: 1s, factor: 2, max: 20s, jitter: none} (default)" in prompts


async def test_the_inspector_of_a_store_names_the_file_its_rows_are_in(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "orders")
        host = screen.session.host
        assert host is not None
        options = inspector.query_one("#fields", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)]
        assert f"rows: {host.db_path}, table orders (SQLite, written every second)" in prompts
        await run_to(pilot, 10)
        rows = 0
        for _ in range(50):  # the file has them while the run goes on
            await pilot.pause(0.2)
            with contextlib.closing(sqlite3.connect(host.db_path)) as db:
                rows = db.execute('SELECT count(*) FROM "orders"').fetchone()[0]
            if rows:
                break
        assert rows > 0
        screen.select("api")
        await pilot.pause()
        prompts = [str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)]
        assert not any(p.startswith("rows:") for p in prompts)  # a store's only


async def test_the_inspector_refuses_an_invalid_value(make_app: MakeApp) -> None:
    app = make_app("burst-event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "orders")
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        inspector.edit("capacity")
        await pilot.pause()
        inspector.query_one("#field-input", Input).value = "fast"
        await pilot.press("enter")
        await pilot.pause()
        assert path.read_text() == before
        assert any(n.title == "Not applied" for n in app._notifications)
        # what was typed stays, in the open field, to be mended rather than typed again
        await pilot.pause()
        field_input = inspector.query_one("#field-input", Input)
        assert field_input.has_class("-editing") and field_input.has_focus
        assert field_input.value == "fast"
        field_input.value = "500/s"
        await pilot.press("enter")
        await pilot.pause()
        assert "capacity: 500/s" in path.read_text()


async def test_unsaved_edits_survive_an_inspector_edit(make_app: MakeApp) -> None:
    app = make_app("burst-event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = screen.query_one(EditorPane)
        pane.editor.text = pane.text.replace("seed: 3", "seed: 4  # to try later")
        screen.select("orders")
        inspector = screen.query_one(InspectorPane)
        await pilot.press("4")
        inspector.edit("latency")
        await pilot.pause()
        inspector.query_one("#field-input", Input).value = "9ms"
        await pilot.press("enter")
        await pilot.pause()
        text = screen.query_one(YamlEditor).text
        assert "seed: 4  # to try later" in text and "latency: 9ms" in text
        saved = screen.session.path.read_text()  # type: ignore[union-attr]
        assert "latency: 9ms" in saved and "seed: 3" in saved


async def test_a_file_with_errors_opens_in_the_editor_and_runs_once_fixed(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    assert app.path is not None
    good = app.path.read_text()
    app.path.write_text(good.replace("rate: 20/s", "rate: fast", 1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.session.host is None  # nothing runs
        assert "the file has errors" in screen.query_one(StatusBar).note
        side = screen.query_one("#side")
        assert side.active == "tab-yaml"  # type: ignore[attr-defined]
        pane = screen.query_one(EditorPane)
        assert pane.problems and pane.problems[0].line == good.splitlines().index(
            "    rate: 20/s") + 1
        pane.editor.text = good
        pane.editor.focus()
        await pilot.press("ctrl+s")
        screen = await run_to(pilot, 2)
        assert screen.session.host is not None
        frame = screen.frames[0]
        assert frame is not None and frame.ledger["created"] > 0
        assert app.path.read_text() == good


async def test_an_unwritable_file_is_said_not_saved(make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        screen.session.path = screen.session.path.parent / "missing-dir" / "x.yaml"  # type: ignore[union-attr]
        pane = screen.query_one(EditorPane)
        pane.editor.text = pane.text.replace("rate: 20/s", "rate: 30/s", 1)
        pane.editor.focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("cannot write" in n.message for n in app._notifications)
        assert "rate: 30/s" in pane.text and pane.dirty


async def test_the_inspector_says_in_one_line_why_a_value_does_not_parse(
        make_app: MakeApp) -> None:
    app = make_app("event-driven")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "clients")
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        for raw, said in (
                ("[unclosed", "clients.rate: [unclosed does not parse: the [ is never "
                              "closed; '[unclosed' is not a rate: use a number per second or "
                              "a string such as 200/s, 3000/min, 5k/s, 2/ms"),
                ("@5/s", "clients.rate: @5/s does not parse: a value cannot start with @ "
                         "(quote it to write it as text); '@5/s' is not a rate: use a number "
                         "per second or a string such as 200/s, 3000/min, 5k/s, 2/ms")):
            app.clear_notifications()
            inspector.edit("rate")
            await pilot.pause()
            inspector.query_one("#field-input", Input).value = raw
            await pilot.press("enter")
            await pilot.pause()
            assert [(n.title, n.message) for n in app._notifications] == [("Not applied", said)]
        assert path.read_text() == before


async def open_field(pilot: Any, inspector: InspectorPane, field: str) -> Input:
    """The inspector's box for ``field``, open and taking keys (a loaded machine may take
    more than one pause to move the focus there)."""
    inspector.edit(field)
    field_input = inspector.query_one("#field-input", Input)
    for _ in range(100):
        await pilot.pause()
        if field_input.has_focus:
            break
    assert field_input.has_focus
    return field_input


async def enter_field(pilot: Any, inspector: InspectorPane, field: str, value: str) -> None:
    (await open_field(pilot, inspector, field)).value = value
    await pilot.press("enter")
    await pilot.pause()


async def test_an_inspector_edit_survives_a_later_save_of_a_buffer_with_a_syntax_error(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "shoppers")
        path = screen.session.path
        assert path is not None
        pane = screen.query_one(EditorPane)
        pane.editor.text = pane.text.replace("    to: checkout", "    to checkout", 1)
        await checked(pilot, pane)
        await pilot.pause()
        await enter_field(pilot, inspector, "rate", "45/s")
        assert "rate: 45/s" in path.read_text()
        said = [n.message for n in app._notifications]
        assert not any("the file changed" in m for m in said), said
        # the same change is in the unsaved buffer, next to the edit still being made
        assert "    rate: 45/s\n" in pane.text and "    to checkout\n" in pane.text
        pane.editor.text = pane.text.replace("    to checkout", "    to: checkout", 1)
        pane.editor.focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "    rate: 45/s\n" in path.read_text()
        host = screen.session.host
        assert host is not None and host.engine is not None
        assert host.engine.nodes["shoppers"].spec.rate == 45  # type: ignore[attr-defined]


async def test_an_inspector_edit_is_refused_when_the_unsaved_buffer_cannot_take_it(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "shoppers")
        path = screen.session.path
        assert path is not None
        before = path.read_text()
        pane = screen.query_one(EditorPane)
        # the node's own block is what does not parse: no line of it can be trusted
        broken = pane.text.replace("  shoppers:\n", "  shoppers\n", 1)
        pane.editor.text = broken
        await enter_field(pilot, inspector, "rate", "45/s")
        assert path.read_text() == before
        assert pane.text == broken
        first = screen.session.check(broken).errors[0]
        where = f"{path.name}:{first.line}:{first.column}: {first.message}"
        assert any(n.title == "Not applied" and "unsaved edits" in n.message
                   and where in n.message for n in app._notifications), \
            [n.message for n in app._notifications]
        # the value typed waits in the open field for the buffer to be mended
        field_input = inspector.query_one("#field-input", Input)
        assert field_input.has_class("-editing") and field_input.value == "45/s"


async def test_enter_on_an_unchanged_default_leaves_the_file_alone(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen, inspector = await inspect(pilot, "shoppers")
        path = screen.session.path
        assert path is not None
        before = path.read_bytes()
        assert (await open_field(pilot, inspector, "source")).value == "null"
        await pilot.press("enter")
        await pilot.pause()
        await enter_field(pilot, inspector, "rate", "30/s")  # as written: no change either
        assert path.read_bytes() == before
        assert [n.message for n in app._notifications][-2:] == [
            "shoppers.source: nothing changed", "shoppers.rate: nothing changed"]


async def test_a_refused_save_names_the_first_problem_and_counts_the_rest(
        make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        pane.editor.text = pane.text.replace("concurrency: 20", "concurrency: lots", 1) \
            .replace("seed: 42", "seed: many", 1)
        await pilot.press("ctrl+s")
        await pilot.pause()
        said = [n.message for n in app._notifications if n.title == "Not saved"]
        assert len(said) == 1
        path = screen.session.path
        assert path is not None
        assert said[0].startswith(f"not saved: {path.name}:22:7: "), said
        assert said[0].endswith("; and 1 more problem (listed under the editor)"), said


async def test_a_missing_colon_is_marked_at_the_line_that_lacks_it(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        line = pane.text.splitlines().index("    kind: producer")
        pane.editor.cursor_location = (line, len("    kind"))
        await pilot.press("delete")
        await checked(pilot, pane)
        await pilot.pause()
        assert pane.editor.error_lines == {line}
        problems = screen.query_one("#problems", OptionList)
        assert str(problems.get_option_at_index(0).prompt) == (
            f"{line + 1}:9 YAML syntax: line {line + 1}: `kind producer` has no ':' — write "
            "`kind: producer`")


async def test_f8_goes_from_problem_to_problem_while_typing(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        lines = pane.text.splitlines()
        seed, concurrency = lines.index("seed: 42"), lines.index("    concurrency: 20")
        pane.editor.text = pane.text.replace("seed: 42", "seed: many", 1).replace(
            "concurrency: 20", "concurrency: lots", 1)
        await checked(pilot, pane)
        await pilot.pause()
        problems = screen.query_one("#problems", OptionList)
        assert problems.option_count == 2
        pane.editor.cursor_location = (0, 0)
        await pilot.press("f8")
        assert pane.editor.cursor_location == (seed, len("seed: "))
        assert problems.highlighted == 0
        await pilot.press("f8")
        assert pane.editor.cursor_location == (concurrency, len("    concurrency: "))
        assert problems.highlighted == 1
        await pilot.press("f8")  # round to the first again
        assert pane.editor.cursor_location[0] == seed
        await pilot.press("shift+f8")
        assert pane.editor.cursor_location[0] == concurrency
        assert isinstance(app.focused, YamlEditor)  # still typing where it stopped
        await pilot.press("x")
        assert "concurrency: x" in pane.text


async def test_typing_goes_on_while_the_text_is_being_checked(make_app: MakeApp) -> None:
    app = make_app("showcase")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_to(pilot, 1)
        assert isinstance(screen, RunScreen)
        pane = await open_editor(pilot, screen)
        check = screen.session.check
        started, release, finished = threading.Event(), threading.Event(), threading.Event()

        def slow_check(text: str) -> Any:  # a check as slow as a large file's
            started.set()
            release.wait(5)
            finished.set()
            return check(text)

        screen.session.check = slow_check  # type: ignore[method-assign]
        line = pane.text.splitlines().index("    concurrency: 20")
        pane.editor.cursor_location = (line, len("    concurrency: 20"))
        await pilot.press("backspace", "backspace", *"lots")
        pane.check_now()
        for _ in range(100):
            await pilot.pause(0.01)
            if started.is_set():
                break
        await pilot.press("x")
        assert "concurrency: lotsx" in pane.text and not finished.is_set()
        screen.session.check = check  # type: ignore[method-assign]
        release.set()
        await checked(pilot, pane)
        # what the slow check found of the text before the x is not shown over the newer one
        problems = screen.query_one("#problems", OptionList)
        assert "'lotsx'" in str(problems.get_option_at_index(0).prompt)
