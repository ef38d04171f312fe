"""The one write-then-rename helper: readers see the old file or the new one, never half of one.

The temporary sibling is removed on any failure (a full disk included), so a failed write leaves
nothing behind; after the rename the folder is fsynced too, so the new name survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target` to fill (a file or a folder); on success it replaces `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}")
    try:
        yield temporary
        if temporary.is_file():
            fsync(temporary)
        if temporary.is_dir() and target.is_dir():
            shutil.rmtree(target)  # a folder cannot be renamed over a non-empty one
        os.replace(temporary, target)
        fsync(target.parent)
    except BaseException:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        raise


def write_bytes(target: Path, payload: bytes) -> None:
    with replacing(target) as temporary:
        temporary.write_bytes(payload)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
