"""Add one document, and SIGKILL this process at a chosen point of the write (run by test_crash.py).

    python tests/crash_driver.py SOURCE_DIR INDEX_DIR DOC_ID POINT
"""

import os
import signal
import sys
from pathlib import Path

from rag import atomic, pipeline
from rag.index.faiss import folder
from rag.index.faiss import persist as index
from rag.settings import Settings


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def after(function, then=die):
    def wrapped(*args, **kwargs):
        result = function(*args, **kwargs)
        then()
        return result
    return wrapped


def half_written(path, payload: bytes):
    """Write half the bytes, then die: a torn file."""
    with open(path, "wb") as handle:
        handle.write(payload[: len(payload) // 2])
        handle.flush()
    die()


POINTS = {
    # the article file is on disk, the index does not know it yet
    "after-source-file": lambda: setattr(folder, "write_bytes", after(folder.write_bytes)),
    # half of the new generation's vectors written
    "mid-vectors": lambda: setattr(index.faiss, "write_index", lambda vectors, path: (
        _write_index(vectors, path), os.truncate(path, os.path.getsize(path) // 2), die())),
    # the new generation complete, CURRENT not yet moved
    "before-pointer": lambda: setattr(index.os, "rename", after(os.rename)),
    # CURRENT's temporary file half written
    "mid-pointer": lambda: setattr(atomic, "fsync", lambda path: (
        half_written(path, path.read_bytes()) if path.name.startswith(f".{index.POINTER}.tmp") else _fsync(path))),
    # CURRENT moved, the old generation not yet removed
    "before-cleanup": lambda: setattr(index, "_remove_old_generations", lambda *args, **kwargs: die()),
}
_fsync, _write_index = atomic.fsync, index.faiss.write_index

if __name__ == "__main__":
    source_dir, index_dir, doc_id, point = sys.argv[1:]
    settings = Settings(source_dir=Path(source_dir), index_dir=Path(index_dir))
    live = pipeline.Pipeline.open(settings, log=lambda message: None)
    POINTS[point]()
    live.add_document(doc_id, f"Crash Test Article {doc_id}\n\nThe crash test article {doc_id} says Gwangju tested.\n")
    print("finished without being killed")
