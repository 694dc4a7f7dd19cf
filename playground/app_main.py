"""The ``run`` and ``serve`` commands: from arguments to the app."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from pathlib import Path
from typing import Any

from playground.paths import db_problem


def _problem(message: str) -> int:
    print(f"playground: {message}", file=sys.stderr)
    return 2


def _unreadable(name: str) -> str | None:
    """Why the app could not open the file ``name``, if it could not."""
    from playground.ui import topology_file

    try:
        there = Path(name).exists()
    except OSError as error:  # exists() raises, not answers False, where it may not look
        return f"cannot read {name}: {error.strerror or error}"
    if not there:
        return f"no such file: {name}"
    try:
        topology_file.read(Path(name))
    except topology_file.FileRefused as error:
        return str(error)
    return None


def build_app(args: argparse.Namespace) -> object:
    from playground.ui.app import PlaygroundApp

    path = Path(args.file) if args.file else None
    compare = Path(args.compare) if getattr(args, "compare", None) else None
    db = Path(args.db) if getattr(args, "db", None) is not None else None
    return PlaygroundApp(path, compare=compare, theme=getattr(args, "theme", None),
                         speed=_speed(args),
                         seed=getattr(args, "seed", None), db=db)


def _speed(args: argparse.Namespace) -> float:
    speed = getattr(args, "speed", None)  # 0 is a speed to refuse, not a missing one
    return 1.0 if speed is None else float(speed)


def run_app(args: argparse.Namespace) -> int:
    for name in (args.file, getattr(args, "compare", None)):
        if name and (problem := _unreadable(name)):
            return _problem(problem)
    speed = _speed(args)
    if not 0.1 <= speed <= 100:
        return _problem(f"--speed must be from 0.1 to 100 (got {speed:g})")
    if getattr(args, "seed", None) is not None and args.seed < 0:
        return _problem(f"--seed must be 0 or more (got {args.seed})")
    if getattr(args, "db", None) is not None and (problem := db_problem(args.db)):
        return _problem(problem)
    theme = getattr(args, "theme", None)
    if theme:
        from playground.ui.theme_files import load_themes

        themes, problems = load_themes()
        names = [t.name for t in themes]
        if theme not in names:
            # the theme asked for may be one of the files refused: say why each was
            for problem in problems:
                _problem(f"theme not loaded: {problem}")
            return _problem(f"no theme {theme!r}; themes: {', '.join(names)}")
    app = build_app(args)
    with _mqtt(args) as mqtt:
        from playground.runner import serve_mqtt

        serve_mqtt(mqtt)
        try:
            app.run()  # type: ignore[attr-defined]
        finally:
            serve_mqtt(None)
    return 0


def _mqtt(args: argparse.Namespace) -> contextlib.AbstractContextManager[Any]:
    """The MQTT options of the app's runs (the embedded broker lives as long as the app)."""
    from playground.mqtt import options as mqtt_options

    if not mqtt_options.wanted(args):
        return contextlib.nullcontext()
    from playground.mqtt.command import mqtt_run
    from playground.spec import load_file

    loaded = load_file(args.file, lint=False) if args.file else None
    topology = loaded.topology if loaded is not None and loaded.ok else None
    return mqtt_run(args, topology, prog="playground", compare=bool(args.compare))


def serve_app(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        return _problem("serving needs textual-serve: pip install 'playground[serve]'")
    if args.file and (problem := _unreadable(args.file)):
        return _problem(problem)
    command = [sys.executable, "-m", "playground", "run"]
    if args.file:
        command.append(str(Path(args.file).resolve()))
    if problem := _listen_problem(args.host, args.port):
        print(f"playground serve: {problem}", file=sys.stderr)
        return 1
    server = Server(shlex.join(command), host=args.host, port=args.port,
                    title="playground")
    try:
        server.serve()
    except OSError as error:  # taken between the check above and now
        print(f"playground serve: {_listen_failure(args.host, args.port, error)}",
              file=sys.stderr)
        return 1
    return 0


def _listen_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, found out before it starts (it
    would print its banner first, then a traceback)."""
    import socket

    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server
                probe.bind(address)
    except OSError as error:
        return _listen_failure(host, port, error)
    return None


def _listen_failure(host: str, port: int, error: OSError) -> str:
    import errno
    import socket

    if isinstance(error, socket.gaierror):
        return f"no address {host!r} ({error.strerror}): give --host an address of this " \
               "machine, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another server?): stop it or " \
               f"choose another, e.g. --port {port + 1 if port < 65535 else 8000}"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: give --host one of its " \
               "addresses, e.g. 127.0.0.1 or 0.0.0.0 (every interface)"
    if error.errno == errno.EACCES:
        return f"this user may not listen on port {port}: choose one from 1024 up, e.g. " \
               "--port 8000"
    return f"cannot listen on {host} port {port}: {error.strerror or error}"
