"""Reading and writing the topology file the app edits (the only place that touches it).

Every failure is a :class:`FileRefused` whose message names the file and what is wrong, so
the command line and the screens can say it as is instead of showing a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple

from playground.spec.source import MAX_BYTES, undecodable


class FileRefused(Exception):
    """The file cannot be read or written; the message says which file and why."""


class ChangedOnDisk(FileRefused):
    """Another program changed the file since the app read or wrote it."""


class Contents(NamedTuple):
    text: str
    digest: str
    """What the bytes were, to notice another program changing the file."""
    newline: str
    """How the file ends its lines: a save writes them the same way."""


def read(path: Path) -> Contents:
    """The file's text (newlines as Python reads them), or :class:`FileRefused`."""
    raw = _read_bytes(path)
    return Contents(_decode(path, raw), hashlib.sha256(raw).hexdigest(), newline_of(raw))


def newline_of(raw: bytes) -> str:
    """The line ending the file's first line has (a file of one line: ``\\n``)."""
    end = raw.find(b"\n")
    if end > 0 and raw[end - 1:end] == b"\r":
        return "\r\n"
    if end < 0 and b"\r" in raw:
        return "\r"
    return "\n"


def digest(path: Path) -> str | None:
    """The :attr:`Contents.digest` of what the file holds now (None: there is no file)."""
    try:
        with Path(path).open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise FileRefused(f"{path}: cannot read it: {_reason(error)}") from None


def write_text(path: Path, text: str, newline: str = "\n") -> str:
    """Writes ``text`` to the file ``path`` names and returns the new :func:`digest`; its
    lines end in ``newline`` (the app edits with ``\\n``, the file keeps its own).

    Through a symbolic link the file it points to is written (the link stays); the file's
    mode, owner and other hard links are kept. Where the folder allows it the file is
    replaced in one step, so a crash mid-write never leaves half a file; in a folder the
    app may not create files in, a writable file is written in place instead.
    """
    target = Path(os.path.realpath(path))
    data = (text if newline == "\n" else text.replace("\n", newline)).encode("utf-8")
    try:
        info: os.stat_result | None = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise FileRefused(f"cannot write {path} ({_reason(error)})") from None
    # root may write any file: the mode is what says the owner wants it left alone
    if info is not None and (not info.st_mode & 0o222 or not os.access(target, os.W_OK)):
        raise FileRefused(f"{path} is read-only")
    try:
        if info is None or info.st_nlink > 1 or not _replace(target, data, info):
            _write_in_place(target, data)
    except OSError as error:
        raise FileRefused(f"cannot write {path} ({_reason(error)})") from None
    return hashlib.sha256(data).hexdigest()


def _replace(target: Path, data: bytes, info: os.stat_result) -> bool:
    """Replaces ``target`` with a new file; False when the folder takes no new file."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except PermissionError:
        return False
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            os.chmod(temporary, stat.S_IMODE(info.st_mode))
            if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.chown(temporary, info.st_uid, info.st_gid)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _write_in_place(target: Path, data: bytes) -> None:
    with target.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


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
        where = undecodable(raw, error)
        raise FileRefused(f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at line "
                          f"{where.line}, column {where.column}): save it as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
