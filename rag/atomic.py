"""Write-then-rename and remove-after-success: readers see the old file or the new one, never half of one; and the
checksum that tells a file written so from one changed since.

The temporary sibling is removed on any failure (a full disk included), so a failed write leaves
nothing behind; after the rename the folder is fsynced too, so the new name survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target` to fill (a file or a folder); on success it replaces `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(target)
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


@contextlib.contextmanager
def removing(target: Path) -> Iterator[None]:
    """Move `target` aside for the block's work (saving an index without it, say) and delete it only when that
    work succeeds; on failure it is put back. Killed in between, the aside copy is a leftover (see below)."""
    aside = _temporary(target)
    os.replace(target, aside)
    try:
        yield
    except BaseException:
        os.replace(aside, target)
        raise
    aside.unlink()
    fsync(target.parent)


@contextlib.contextmanager
def removing_all(*targets: Path) -> Iterator[None]:
    """`removing` for each of the targets that exists: all are deleted, or on failure all put back."""
    with contextlib.ExitStack() as stack:
        for target in targets:
            if target.exists():
                stack.enter_context(removing(target))
        yield


TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)-\d+-[0-9a-f]{8}$")


def remove_leftovers(folder: Path) -> list[str]:
    """Temporary files of writers that were killed (their process is gone); a live writer's are kept."""
    removed = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = TEMPORARY.match(path.name)
        if match and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks (an index's vectors may run to gigabytes)."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
