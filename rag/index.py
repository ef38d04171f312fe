"""The persisted index (stage 4): FAISS vectors, the chunk store, the documents and a manifest.

Each write goes to a fresh generation folder; only when every file is on disk does the CURRENT
pointer move to it (an atomic rename). A crash at any point leaves the previous generation loadable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from rag import vector_index
from rag.atomic import fsync, write_bytes
from rag.contracts import Chunk
from rag.clean import Block
from rag.errors import RagError
from rag.load import Document

FORMAT_VERSION = 1
POINTER = "CURRENT"
FILES = ("manifest.json", "vectors.faiss", "chunks.jsonl", "documents.jsonl")


class IndexMissing(RagError):
    """No index has been built in this folder yet."""


class IndexCorrupt(RagError):
    """The files on disk cannot be trusted; rebuilding fixes it."""


@dataclass
class Store:
    manifest: dict
    vectors: faiss.Index
    chunks: list[Chunk]
    documents: dict[str, Document]
    generation: str = ""  # the folder it was loaded from or saved to; "" while only in memory

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk position, cosine score) for the k nearest chunks."""
        k = min(k, self.vectors.ntotal)
        if k == 0:
            return []
        scores, positions = self.vectors.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if p >= 0]

    def without_document(self, doc_id: str) -> "Store":
        """A copy minus one document; its vectors are dropped, the rest reused, nothing re-embedded."""
        keep = [i for i, chunk in enumerate(self.chunks) if chunk.doc_id != doc_id]
        vectors = vector_index.refilled(self.vectors, vector_index.all_vectors(self.vectors)[keep])
        documents = {k: v for k, v in self.documents.items() if k != doc_id}
        return Store(dict(self.manifest), vectors, [self.chunks[i] for i in keep], documents)

    def with_document(self, document: Document, chunks: list[Chunk], vectors: np.ndarray) -> "Store":
        """A copy with one document added (or replaced), embedding only that document."""
        store = self.without_document(document.doc_id) if document.doc_id in self.documents else self
        index = vector_index.with_more(store.vectors, vectors)
        return Store(dict(store.manifest), index, store.chunks + chunks, store.documents | {document.doc_id: document})

    # --- persistence -------------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        with writer_lock(index_dir):
            return self.save_locked(index_dir)

    def save_locked(self, index_dir: Path) -> Path:
        """Save while holding writer_lock(index_dir)."""
        staging = index_dir / f".tmp-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            faiss.write_index(self.vectors, str(staging / "vectors.faiss"))
            _write_jsonl(staging / "chunks.jsonl", (c.to_dict() for c in self.chunks))
            _write_jsonl(staging / "documents.jsonl", (_document_to_dict(d) for d in self.documents.values()))
            manifest = dict(self.manifest, created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
            manifest["files"] = {name: (staging / name).stat().st_size for name in FILES[1:]}
            (staging / "manifest.json").write_bytes(json.dumps(manifest, indent=2).encode())
            for name in FILES:
                fsync(staging / name)
            generation = index_dir / f"gen-{_next_generation(index_dir):06d}"
            os.rename(staging, generation)
            fsync(index_dir)
            write_bytes(index_dir / POINTER, generation.name.encode())
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.manifest, self.generation = manifest, generation.name
        _remove_old_generations(index_dir, keep=generation.name)
        return generation

    @classmethod
    def load(cls, index_dir: Path) -> "Store":
        pointer = index_dir / POINTER
        if not pointer.is_file():
            raise IndexMissing(f"no index in {index_dir}; build one with: rag index")
        generation = index_dir / pointer.read_text().strip()
        try:
            manifest = json.loads((generation / "manifest.json").read_text())
            for name, size in manifest["files"].items():
                actual = (generation / name).stat().st_size
                if actual != size:
                    raise IndexCorrupt(f"{generation / name} is {actual} bytes, expected {size}")
            vectors = vector_index.prepared(faiss.read_index(str(generation / "vectors.faiss")))
            chunks = [Chunk.from_dict(row) for row in _read_jsonl(generation / "chunks.jsonl")]
            documents = {
                row["doc_id"]: _document_from_dict(row) for row in _read_jsonl(generation / "documents.jsonl")
            }
        except IndexCorrupt as exc:
            raise IndexCorrupt(f"index is damaged ({exc}); rebuild it with: rag index --rebuild") from None
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorrupt(
                f"index in {generation} cannot be read ({type(exc).__name__}: {exc}); "
                "rebuild it with: rag index --rebuild"
            ) from None
        if manifest.get("format") != FORMAT_VERSION or vectors.ntotal != len(chunks):
            raise IndexCorrupt(f"index in {generation} is inconsistent; rebuild it with: rag index --rebuild")
        return cls(manifest=manifest, vectors=vectors, chunks=chunks, documents=documents, generation=generation.name)


def _document_to_dict(document: Document) -> dict:
    data = asdict(document)
    data["blocks"] = [[b.kind, b.start, b.end] for b in document.blocks]
    return data


def _document_from_dict(data: dict) -> Document:
    data = dict(data)
    data["blocks"] = [Block(*b) for b in data["blocks"]]
    return Document(**data)


def current_generation(index_dir: Path) -> str | None:
    """The generation CURRENT points at: another process may have moved it since this one loaded."""
    try:
        return (index_dir / POINTER).read_text().strip()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def writer_lock(index_dir: Path):
    """One writer at a time per index folder, across processes: a second writer waits for the first."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _next_generation(index_dir: Path) -> int:
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return max(numbers, default=0) + 1


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    for path in index_dir.iterdir():
        if path.is_dir() and path.name != keep and (path.name.startswith("gen-") or path.name.startswith(".tmp-")):
            shutil.rmtree(path, ignore_errors=True)
