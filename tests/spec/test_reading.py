"""Reading a file, before any field means anything: YAML syntax, encodings, duplicate keys,
tags, and files that hold no mapping. Lines and columns count from 1, as editors show them."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_text import at, load, only_error

from playground.spec import TopologyError, load_text
from playground.spec import load as load_topology


def test_yaml_syntax_error_points_where_the_parser_stopped() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
           to: f
        """)
    assert problem.message == ("YAML syntax: expected <block end>, but found '<block mapping "
                               "start>' (check this line's indentation against the lines above)")
    assert at(problem) == (6, 4)
    assert str(problem).startswith("t.yaml:6:4: YAML syntax: ")


def test_a_key_without_its_colon_is_said_at_its_own_line_and_how_to_write_it() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          p:
            kind producer
            rate: 5/s
            to: q
          q: {kind: queue}
        """)
    assert problem.message == ("YAML syntax: line 5: `kind producer` has no ':' — write "
                               "`kind: producer`")
    assert at(problem) == (5, 9)


def test_the_last_key_of_a_block_without_its_colon_is_said_at_its_own_line() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            to q
          q: {kind: queue}
        """)
    assert problem.message == "YAML syntax: line 6: `to q` has no ':' — write `to: q`"
    assert at(problem) == (6, 7)


def test_a_block_key_without_its_colon_is_said_at_its_own_line() -> None:
    problem = only_error("version: 1\nname: orders\nnodes\n  p: {kind: producer}\n")
    assert problem.message == "YAML syntax: line 3: `nodes` has no ':' — write `nodes:`"
    assert at(problem) == (3, 6)


def test_unclosed_flow_list_points_at_its_bracket_and_names_where_the_parser_stopped() -> None:
    problem = only_error("""\
        version: 1
        name: [orders
        nodes: {}
        """)
    assert problem.message == ("YAML syntax: expected ',' or ']', but got ':' at line 3, "
                               "column 6 (the '[' list opened here is not closed, or its items "
                               "lack commas)")
    assert at(problem) == (2, 7)


def test_unclosed_flow_mapping_points_at_its_brace_not_the_line_after() -> None:
    problem = only_error("""\
        version: 1
        name: x
        nodes:
          a: {kind: producer, rate: 10/s, to: q
          q: {kind: queue}
        """)
    assert problem.message == ("YAML syntax: expected ',' or '}', but got ':' at line 5, "
                               "column 4 (the '{' mapping opened here is not closed, or its "
                               "entries lack commas)")
    assert at(problem) == (4, 6)
    assert str(problem).startswith("t.yaml:4:6: YAML syntax: ")


def test_a_flow_mapping_left_open_at_the_end_of_the_file_points_at_its_brace() -> None:
    problem = only_error("version: 1\nname: x\nnodes:\n  q: {kind: queue\n")
    assert problem.message.startswith("YAML syntax: expected ',' or '}', but got '<stream end>' "
                                      "at line 5, column 1 (the '{' mapping opened here")
    assert at(problem) == (4, 6)


def test_the_innermost_unclosed_brace_is_the_one_named() -> None:
    problem = only_error("version: 1\nname: x\nnodes: {q: {kind: queue}, f: {kind: function\n"
                         "seed: 1\n")
    assert at(problem) == (3, 30)
    assert "at line 4, column 5" in problem.message


def test_unclosed_quote_points_at_the_quote_not_the_end_of_the_file() -> None:
    problem = only_error("""\
        version: 1
        name: "orders
        nodes: {}
        """)
    assert problem.message == ("YAML syntax: found unexpected end of stream at line 4, column 1 "
                               "(the quote opened here is never closed)")
    assert at(problem) == (2, 7)


def test_a_tab_in_the_indentation_is_a_syntax_error_saying_so() -> None:
    problem = only_error("version: 1\nname: orders\nnodes:\n\tq: {kind: queue}\n")
    assert problem.message.endswith("(indent with spaces: YAML does not allow tabs)")
    assert at(problem) == (4, 1)


def test_control_character_is_refused_where_it_is() -> None:
    problem = only_error("version: 1\nname: ord\x07ers\nnodes: {}\n")
    assert problem.message == "YAML syntax: the character U+0007 is not allowed in YAML text"
    assert at(problem) == (2, 10)


def test_bytes_that_are_not_utf8_are_refused_at_the_bad_byte_counting_characters() -> None:
    loaded = load_text("version: 1\nname: café ".encode() + b"\xff\n", "t.yaml")
    (problem,) = loaded.problems
    assert problem.message == "the file is not UTF-8 text (a YAML topology must be)"
    assert at(problem) == (2, 12)


def test_a_nul_byte_is_refused_where_it_is() -> None:
    (problem,) = load_text(b"version: 1\nname: x\x00y\n", "t.yaml").problems
    assert problem.message == "the file holds a NUL byte: it is binary, not YAML text"
    assert at(problem) == (2, 8)


def test_duplicate_key_is_refused_at_the_second_one() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
            delay: 1s
            delay: 2s
        """)
    assert problem.message == "duplicate key 'delay' (first at line 6, column 5)"
    assert at(problem) == (7, 5)


def test_duplicate_node_id_is_refused_at_the_second_one() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          q:
            kind: queue
          q:
            kind: queue
        """)
    assert problem.message == "duplicate key 'q' (first at line 4, column 3)"
    assert at(problem) == (6, 3)


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!custom"])
def test_a_python_or_custom_tag_is_refused(tag: str) -> None:
    problem = only_error(f"""\
        version: 1
        name: {tag} orders
        nodes:
          q:
            kind: queue
        """)
    assert problem.message.startswith(f"the tag {tag} is not allowed: a topology holds only "
                                      "mappings, lists, strings, numbers, booleans and null")
    assert at(problem) == (2, 7)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n...\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    problem = only_error(text)
    assert problem.message == ("the file is empty: a topology needs at least version: 1, "
                               "name and nodes")
    assert at(problem) == (1, 1)


def test_a_file_holding_a_list_is_refused() -> None:
    problem = only_error("""\
        - version: 1
        - name: orders
        """)
    assert problem.message == ("a topology is a mapping with version, name and nodes; this "
                               "file holds a list")
    assert at(problem) == (1, 1)


def test_a_file_holding_a_scalar_is_refused() -> None:
    problem = only_error("orders\n")
    assert problem.message.endswith("this file holds the value 'orders'")



def test_a_number_as_node_id_is_refused_and_other_problems_still_reported() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          1: {kind: queue}
          p: {kind: producer, rate: 1/s, to: nope}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((4, 3), "1 is not a valid node id: ids start with a lowercase letter and hold only "
                 "a-z, 0-9, '_' and '-'"),
        ((5, 38), "unknown node 'nope' (nodes: 1, p)"),
    ]


def test_a_number_as_payload_key_is_refused_asking_for_quotes() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 1/s, to: q, payload: {1: one}}
          q: {kind: queue}
        """)
    assert problem.message == "the key 1 is not a string: write it in quotes"
    assert at(problem) == (4, 51)


def test_yaml_keys_1_and_true_are_not_duplicates() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 1/s, to: q, payload: {1: one, true: yes}}
          q: {kind: queue}
        """)
    assert loaded.errors
    assert not any("duplicate" in p.message for p in loaded.problems)


def test_payload_templates_are_kept_as_text_not_evaluated() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p:
            kind: producer
            rate: 1/s
            payload: {cmd: "{__import__('os').system('true')}", n: "{int:1..5}", ok: true}
            to: q
          q: {kind: queue}
        """)
    assert loaded.ok
    assert loaded.topology is not None
    assert loaded.topology.nodes["p"].payload == {
        "cmd": "{__import__('os').system('true')}", "n": "{int:1..5}", "ok": True}


def test_load_raises_with_every_error_and_its_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nname: x\nnodes:\n  q: {kind: queue, delay: -1s, to: nope}\n")
    with pytest.raises(TopologyError) as refused:
        load_topology(path)
    assert [str(p) for p in refused.value.problems] == [
        f"{path}:4:27: delay: a duration cannot be negative (got '-1s') (nodes.q.delay)",
        f"{path}:4:36: unknown node 'nope' (nodes: q) (nodes.q.to)",
    ]


def test_node_ids_that_are_not_strings_are_each_refused_at_their_key() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes: {~: {kind: function}, 1.5: {kind: function}, f: {kind: function}}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((3, 9), "null is not a valid node id: ids start with a lowercase letter and hold only "
                 "a-z, 0-9, '_' and '-'"),
        ((3, 30), "1.5 is not a valid node id: ids start with a lowercase letter and hold only "
                  "a-z, 0-9, '_' and '-'"),
    ]
    assert [p.path for p in loaded.problems] == ["nodes.null", "nodes.1.5"]


def test_keys_that_read_as_the_same_key_are_refused_and_every_bad_key_listed() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 1/s, to: q, payload: {1: x, 2.5: y, true: z, null: w}}
          q: {kind: queue}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((4, 51), "the key 1 is not a string: write it in quotes"),
        ((4, 57), "the key 2.5 is not a string: write it in quotes"),
        ((4, 65), "the key true reads as the same key as 1 (line 4, column 51): write keys in "
                  "quotes to tell them apart"),
        ((4, 74), "the key null is not a string: write it in quotes"),
    ]


def test_an_empty_value_is_pointed_at_on_the_line_of_its_key() -> None:
    loaded = load("""\
        version: 1
        name: orders
        description:
        nodes:
          f:
          g: {kind: function}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((3, 1), "description must be a string (got nothing)"),
        ((5, 3), "node 'f' must be a mapping with a kind: use one of producer, gateway, queue, "
                 "topic, function, store (got nothing)"),
    ]


def test_a_top_level_key_that_is_not_a_string_is_an_unknown_field_at_the_key() -> None:
    problem = only_error("""\
        version: 1
        name: orders
        nodes:
          f: {kind: function}
        ~: 1
        """)
    assert problem.message == ("unknown field null. Valid fields: version, name, description, "
                               "seed, duration, nodes, scenario, layout.")
    assert at(problem) == (5, 1)


def test_a_key_reading_as_one_merged_in_is_refused_too() -> None:
    loaded = load("""\
        version: 1
        name: orders
        nodes:
          p: {kind: producer, rate: 1/s, to: q, payload: &base {1: x}}
          r: {kind: producer, rate: 1/s, to: q, payload: {<<: *base, true: y}}
          q: {kind: queue}
        """)
    assert [(at(p), p.message) for p in loaded.problems] == [
        ((4, 57), "the key 1 is not a string: write it in quotes"),
        ((4, 57), "the key 1 is not a string: write it in quotes"),
        ((5, 62), "the key true reads as the same key as 1 (line 4, column 57): write keys in "
                  "quotes to tell them apart"),
    ]
    assert [p.path for p in loaded.problems] == ["nodes.p.payload.1", "nodes.r.payload.1",
                                                 "nodes.r.payload"]


def test_an_empty_last_value_is_pointed_at_its_key() -> None:
    problem = only_error("version: 1\nname: orders\nnodes:\n  f:")
    assert problem.message.startswith("node 'f' must be a mapping with a kind")
    assert at(problem) == (4, 3)
