"""Extraction of .html, .pdf and .docx files in a child process with a hard time and memory limit, for uploads and
`rag index` alike. A parser's time can grow with the square of its input (50,000 inline tags in 400 kB of HTML took
trafilatura over 80 s), and a thread cannot be stopped: a child process can. Over its limit the child is killed
and the file refused (TooLong, HTTP 413) with the reason; the worker that asked is free at once.

One child (`python -m rag.ingest.sandbox`) serves a process's extractions one at a time, so the parsers are
imported once, not per file; it is started on first use and again after it is killed. (A plain subprocess, not
multiprocessing: forkserver and spawn re-run the user's main script in the child, and fork copies the locks of a
server's threads.)
"""

from __future__ import annotations

import hashlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict

from rag.errors import RagError, TooLong
from rag.ingest.formats import MAX_SECONDS

MAX_MEMORY_BYTES = 1_500_000_000  # address space of the extracting child (the parsers', not the server's)
_HEADER = struct.Struct("!Q")


class Extractor:
    """The child process and its pipes; every request waits at most MAX_SECONDS for its answer."""

    def __init__(self):
        self.child: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self.recent: OrderedDict[tuple[str, str], tuple[str, dict]] = OrderedDict()  # text, then metadata, of one file

    def converted(self, name: str, data: bytes) -> tuple[str, dict[str, str | None]]:
        key = (name, hashlib.sha256(data).hexdigest())
        with self.lock:
            if key not in self.recent:
                self.recent[key] = self._ask(name, data)
                while len(self.recent) > 4:
                    self.recent.popitem(last=False)
            return self.recent[key]

    def _ask(self, name: str, data: bytes) -> tuple[str, dict]:
        if self.child is None or self.child.poll() is not None:
            self.child = subprocess.Popen([sys.executable, "-m", "rag.ingest.sandbox", str(MAX_MEMORY_BYTES)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            _send(self.child.stdin, (name, data))
            kind, payload = _receive(self.child.stdout, time.monotonic() + MAX_SECONDS)
        except TimeoutError:
            self._stop()
            raise TooLong(f"{name}: extracting its text took over {MAX_SECONDS:.0f} s; refused") from None
        except (EOFError, OSError):  # the child died without a word: out of memory, most often
            self._stop()
            raise TooLong(f"{name}: its extraction stopped (over {MAX_MEMORY_BYTES // 1_000_000:,} MB of memory?); "
                          "refused") from None
        if kind == "ok":
            return payload
        if kind == "too long":
            self._stop()  # a parser that ran out of memory may have left the child in a bad state
            raise TooLong(payload)
        raise RagError(payload)

    def _stop(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.wait()
            self.child = None


def _send(pipe, message) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(payload)) + payload)
    pipe.flush()


def _receive(pipe, deadline: float | None = None):
    header = _read(pipe, _HEADER.size, deadline)
    return pickle.loads(_read(pipe, _HEADER.unpack(header)[0], deadline))


def _read(pipe, size: int, deadline: float | None) -> bytes:
    chunks, left, fd = [], size, pipe.fileno()
    while left:
        if deadline is not None and not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_EXTRACTOR = Extractor()


def converted(name: str, data: bytes) -> tuple[str, dict[str, str | None]]:
    """The text and the metadata (published, url, byline) of a file whose text is extracted (.html, .pdf, .docx),
    in the child unless its format is marked as safe to extract in process.

    Raises:
        TooLong: extraction ran over MAX_SECONDS or MAX_MEMORY_BYTES, or its text over the document limit.
        RagError: the file is damaged, encrypted, or holds no text.
    """
    from pathlib import Path

    from rag.ingest.formats import FORMATS, converted_meta, converted_text

    if not FORMATS[Path(name).suffix.lower()].isolated:
        return converted_text(name, data), converted_meta(name, data)
    return _EXTRACTOR.converted(name, data)


def serve(memory: int) -> None:
    """The child: extract each (name, bytes) that arrives on stdin, answer ("ok", (text, meta)) or (kind, message)."""
    import resource

    from rag.ingest.formats import converted_meta, converted_text

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            name, data = _receive(requests)
        except EOFError:
            return
        try:
            outcome = ("ok", (converted_text(name, data), converted_meta(name, data)))
        except TooLong as exc:
            outcome = ("too long", str(exc))
        except MemoryError:
            outcome = ("too long", f"{name}: extracting its text needed over {memory // 1_000_000:,} MB of memory; "
                                   "refused")
        except RagError as exc:
            outcome = ("error", str(exc))
        _send(answers, outcome)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
