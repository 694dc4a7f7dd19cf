"""Reading and writing the topology file the app edits (the only place that touches it).

Every failure is a :class:`FileRefused` whose message names the file and what is wrong, so
the command line and the screens can say it as is instead of showing a traceback.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from playground.spec.source import MAX_BYTES


class FileRefused(Exception):
    """The file cannot be read or written; the message says which file and why."""


def read_text(path: Path) -> str:
    """The file's text (newlines as Python reads them), or :class:`FileRefused`."""
    return _decode(path, _read_bytes(path))


def write_text(path: Path, text: str) -> None:
    """Replaces the file in one step: a crash mid-write never leaves half a file."""
    directory = path.parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_bytes(path: Path) -> bytes:
    try:
        info = Path(path).stat()
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"{path}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):  # a device or a pipe may never end
            raise FileRefused(f"{path}: not a regular file")
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise FileRefused(f"{path}: no such file") from None
    except OSError as error:
        raise FileRefused(f"{path}: cannot read it: {_reason(error)}") from None
    if len(raw) > MAX_BYTES:
        raise FileRefused(f"{path}: over {MAX_BYTES // (1024 * 1024)} MB; a topology may be "
                          f"at most {MAX_BYTES // (1024 * 1024)} MB")
    return raw


def _decode(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        # in characters, as editors count columns: what precedes the bad byte is valid UTF-8
        before = raw[raw.rfind(b"\n", 0, error.start) + 1: error.start]
        column = len(before.decode("utf-8")) + 1
        raise FileRefused(f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at line "
                          f"{line}, column {column}): save it as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
