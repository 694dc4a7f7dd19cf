"""Command line: arguments -> load -> app / sim / check / schema."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from playground import __version__
from playground.mqtt.options import add_arguments as mqtt_arguments

COMMANDS = ("run", "sim", "check", "schema", "serve", "test")


class _Parser(argparse.ArgumentParser):
    """argparse, except that a value starting with a minus (``--duration -5s``, ``--tap-rate
    -1e3``, ``--speed -inf``) is the option's value, as with ``--duration=-5s``: the check of
    the value then says what is wrong with it, where argparse would say "expected one
    argument". No option here is a minus and a digit, so nothing is taken from an option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse's own pattern takes only -5 and -.5 for values (-\.?\d from Python 3.13)
        self._negative_number_matcher = re.compile(r"-\.?\d|-(inf|nan)", re.IGNORECASE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="playground",
        description="Assemble cloud-style architectures from YAML, run them, watch what happens.",
        epilog="With no command (or just a FILE) the app opens: `playground [FILE]` is "
               "`playground run [FILE]`.",
    )
    parser.add_argument("--version", action="version", version=f"playground {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="open the app on a topology (a picker without FILE)",
                         description="Open the terminal app. Without FILE, a picker lists "
                                     "the examples in topologies/.")
    run.add_argument("file", nargs="?", metavar="FILE", help="topology YAML to open")
    run.add_argument("--theme", metavar="NAME", help="theme from themes/ (dark, light, ...)")
    run.add_argument("--speed", type=float, default=1.0, metavar="F",
                     help="simulated seconds per wall second, 0.1 to 100 (default 1)")
    run.add_argument("--seed", type=int, metavar="N", help="override the topology's seed")
    run.add_argument("--db", metavar="PATH", help="SQLite file for the stores")
    run.add_argument("--compare", metavar="FILE2",
                     help="compare mode: FILE and FILE2 side by side under the same traffic")
    mqtt_arguments(run)

    sim = sub.add_parser("sim", help="run a topology headless and report",
                         description="Run a topology without the UI, on a simulated clock by "
                                     "default, and print a report.")
    sim.add_argument("file", metavar="FILE", help="topology YAML")
    sim.add_argument("--duration", metavar="D", help="run length (default: the file's)")
    sim.add_argument("--seed", type=int, metavar="N", help="override the file's seed")
    sim.add_argument("--clock", choices=("virtual", "real"), default="virtual",
                     help="virtual: as fast as possible (default); real: wall-clock time")
    sim.add_argument("--speed", type=float, default=1.0, metavar="F",
                     help="with --clock real: simulated seconds per wall second (default 1)")
    sim.add_argument("--db", metavar="PATH",
                     help="SQLite file for the stores (default: a new file in .playground/runs/)")
    sim.add_argument("--drain", metavar="D",
                     help="after the duration, go on without new messages until nothing is "
                          "pending, for at most D")
    sim.add_argument("--json", action="store_true", help="print exactly one JSON object")
    mqtt_arguments(sim)

    check = sub.add_parser("check", help="validate topology files",
                           description="Validate topology files: exit 0 when all are valid "
                                       "(warnings are printed but do not fail), 1 otherwise.")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--no-lint", action="store_true", help="skip the lint warnings")

    sub.add_parser("schema", help="print the JSON Schema of the topology format",
                   description="Print the JSON Schema of the topology format (for editors: "
                               "# yaml-language-server: $schema=...).")

    test = sub.add_parser("test", help="run the test suite (pytest, on two workers)",
                          description="Run the project's tests; extra arguments go to pytest.")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="PYTEST_ARGS")

    serve = sub.add_parser("serve", help="serve the app in a browser (textual-serve)",
                           description="Serve the app in a web browser on 127.0.0.1.")
    serve.add_argument("file", nargs="?", metavar="FILE")
    serve.add_argument("--port", type=_port, default=8000,
                       help="port to listen on, 1 to 65535 (default 8000)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0: every "
                            "interface)")
    return parser


def _global(argument: str) -> bool:
    """Whether ``argument`` is an option of ``playground`` itself (``--help``, ``--version``,
    or a prefix of one, as argparse takes it), not one of ``run``."""
    if argument in ("-h", "--help", "--version"):
        return True
    return len(argument) > 2 and any(name.startswith(argument) for name in ("--help",
                                                                            "--version"))


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to "
                                         "65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is from 1 to 65535 (got {port})")
    return port


def _check(files: Sequence[str], lint: bool) -> int:
    from playground.spec import load_file

    failed = 0
    for name in files:
        loaded = load_file(name, lint=lint)
        for problem in loaded.problems:
            print(problem)
        if loaded.errors or loaded.topology is None:
            failed += 1
    good = len(files) - failed
    summary = f"{good} of {len(files)} file{'s' if len(files) != 1 else ''} valid"
    print(summary, file=sys.stderr)
    return 1 if failed else 0


def _test(extra: Sequence[str]) -> int:
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", *extra]
    return subprocess.call(command, cwd=root)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and not _global(args_list[0])):
        # `playground FILE` opens the app on FILE, and so does `playground --theme X FILE`
        args_list.insert(0, "run")
    args = _parser().parse_args(args_list)
    try:
        if args.command == "check":
            return _check(args.files, not args.no_lint)
        if args.command == "schema":
            from playground.spec.schema import schema_text

            sys.stdout.write(schema_text())
            return 0
        if args.command == "test":
            return _test(args.pytest_args)
        if args.command == "sim":
            from playground.sim import run_sim

            return run_sim(args)
        if args.command == "run":
            from playground.app_main import run_app

            return run_app(args)
        if args.command == "serve":
            from playground.app_main import serve_app

            return serve_app(args)
    except KeyboardInterrupt:
        return 130
    return 0
