"""The topic names the playground uses on a broker (``<base>`` is ``playground/<topology>``).

- ``<base>/<node>/in``: a node's inbox (engine envelopes, or JSON from outside);
- ``<base>/<node>/reply``: a node's reply topic inside a process;
- ``<base>/_proc/<process>``: one process's answers and acknowledgements;
- ``<base>/_hello``: a process that has just subscribed says so (the others resend to it);
- ``<base>/tap/<node>/<event>``, ``<base>/tap/_summary``, ``<base>/tap/_errors``: the tap.

Node ids match ``[a-z][a-z0-9_-]*``, so ``_proc`` and ``_hello`` can be no node, and the
tap's topics have a level more than any inbox: no name here can be mistaken for another.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def base_topic(name: str) -> str:
    """``playground/<topology>``, as the engine names it (unsafe characters become -)."""
    return "playground/" + (_UNSAFE.sub("-", name) or "topology")


def inbox(base: str, node: str) -> str:
    return f"{base}/{node}/in"


def process_topic(base: str, process: str) -> str:
    return f"{base}/_proc/{process}"


def hello_topic(base: str) -> str:
    return f"{base}/_hello"


RUN = "_run"  # the level of events about the whole run (no node): never an empty level


def tap_topic(base: str, node: str, event: str) -> str:
    return f"{base}/tap/{node or RUN}/{event}"
