"""Index generations on disk: each save writes a fresh generation folder, and only when every file is
on disk does the CURRENT pointer move to it (an atomic rename, then an fsync of the folder). A crash
at any point leaves the previous generation loadable; a damaged one is detected when loaded.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import re
import os
import shutil
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import faiss

from rag.atomic import file_digest, fsync, write_bytes
from rag.ingest.clean import Block
from rag.contracts import Chunk
from rag.errors import IndexCorrupt, IndexMissing, RagError
from rag.index.faiss import vectors as vector_index
from rag.index.faiss.store import Store
from rag.ingest.load import Document

FORMAT_VERSION = 1
POINTER = "CURRENT"
FILES = ("manifest.json", "vectors.faiss", "chunks.jsonl", "documents.jsonl", "stems.jsonl")


def save(store: Store, index_dir: Path) -> Path:
    with writer_lock(index_dir):
        return save_locked(store, index_dir)


def save_locked(store: Store, index_dir: Path) -> Path:
    """Write `store` as a new generation and point CURRENT at it; the caller holds writer_lock(index_dir)."""
    staging = index_dir / f".tmp-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        write_vectors(store.vectors, staging / "vectors.faiss")
        _write_jsonl(staging / "chunks.jsonl", (c.to_dict() for c in store.chunks))
        _write_jsonl(staging / "documents.jsonl", (_document_to_dict(d) for d in store.documents.values()))
        _write_jsonl(staging / "stems.jsonl", store.chunk_stems())
        manifest = dict(store.manifest, created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        manifest["files"] = {name: (staging / name).stat().st_size for name in FILES[1:]}
        # Checked at load: a file overwritten in place at its own size (floats in vectors.faiss) is found
        manifest["sha256"] = {name: file_digest(staging / name) for name in FILES[1:]}
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
    store.manifest, store.generation = manifest, generation.name
    _remove_old_generations(index_dir, keep=generation.name)
    return generation



def write_vectors(vectors, path: Path) -> None:
    """faiss reports a failed write (a full disk) as a RuntimeError naming its C++ source line: an OSError with
    the system's reason instead, which the CLI prints in one line and the service answers with 507."""
    try:
        faiss.write_index(vectors, str(path))
    except RuntimeError as exc:
        full = "No space left" in str(exc) or "Disk quota" in str(exc)
        raise OSError(errno.ENOSPC if full else errno.EIO, "No space left on device" if full else
                      f"cannot write the vector index ({str(exc).splitlines()[-1][:200]})", str(path)) from None


def load(index_dir: Path) -> Store:
    pointer = index_dir / POINTER
    if not pointer.is_file():
        raise IndexMissing(f"no index in {index_dir}; build one with: rag index")
    try:
        name = pointer.read_bytes().decode("ascii").strip()
        if not re.fullmatch(r"gen-\d+", name):
            raise IndexCorrupt(f"{pointer} does not name an index generation")
        generation = index_dir / name
    except IndexCorrupt as exc:
        raise IndexCorrupt(f"index is damaged ({exc}); rebuild it with: rag index --rebuild") from None
    except (OSError, ValueError):
        raise IndexCorrupt(f"index is damaged ({pointer} is unreadable); rebuild it with: rag index --rebuild") from None
    try:
        manifest = json.loads((generation / "manifest.json").read_text())
        for name, size in manifest["files"].items():
            actual = (generation / name).stat().st_size
            if actual != size:
                raise IndexCorrupt(f"{generation / name} is {actual} bytes, expected {size}")
        for name, digest in manifest.get("sha256", {}).items():  # indexes saved before 2026-12-08 record none
            if file_digest(generation / name) != digest:
                raise IndexCorrupt(f"{generation / name} was changed (its sha256 is not the one the manifest records)")
        vectors = vector_index.prepared(faiss.read_index(str(generation / "vectors.faiss")))
        chunks = [Chunk.from_dict(row) for row in _read_jsonl(generation / "chunks.jsonl")]
        documents = {
            row["doc_id"]: _document_from_dict(row) for row in _read_jsonl(generation / "documents.jsonl")
        }
        stems = _read_jsonl(generation / "stems.jsonl") if "stems.jsonl" in manifest["files"] else None
    except IndexCorrupt as exc:
        raise IndexCorrupt(f"index is damaged ({exc}); rebuild it with: rag index --rebuild") from None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorrupt(
            f"index in {generation} cannot be read ({type(exc).__name__}: {exc}); "
            "rebuild it with: rag index --rebuild"
        ) from None
    if (manifest.get("format") != FORMAT_VERSION or vectors.ntotal != len(chunks)
            or (stems is not None and len(stems) != len(chunks))):
        raise IndexCorrupt(f"index in {generation} is inconsistent; rebuild it with: rag index --rebuild")
    _mark_stale(manifest, chunks, documents)
    return Store(manifest=manifest, vectors=vectors, chunks=chunks, documents=documents, generation=generation.name,
                 stems=stems)




def _mark_stale(manifest: dict, chunks: list[Chunk], documents: dict[str, Document]) -> None:
    """A chunk whose sentences are not in its article at their offsets (the chunk file was edited, or written
    from another version of the article) makes that article's file look changed, so the next sync re-indexes it."""
    stale = {c.doc_id for c in chunks if c.doc_id not in documents or not c.matches(documents[c.doc_id].text)}
    for doc_id in sorted(stale):
        document = documents.get(doc_id)
        if document is None or not document.path:
            raise IndexCorrupt(f"index chunks of {doc_id!r} do not match its article; rebuild it with: "
                               "rag index --rebuild")
        manifest["corpus"][os.path.basename(document.path)] = "stale"


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
        return (index_dir / POINTER).read_bytes().decode("ascii", errors="replace").strip()
    except OSError:  # none yet, or not a folder: the writer lock says why
        return None


def recorded_source(index_dir: Path) -> Path | None:
    """The corpus folder the current index was built from (its manifest records it relative to the index folder);
    None without one."""
    name = current_generation(index_dir)
    try:
        recorded = json.loads((index_dir / name / "manifest.json").read_text()).get("source_dir") if name else None
    except (OSError, ValueError, AttributeError):
        return None  # a damaged index: loading it says so, and a rebuild follows
    return (index_dir / recorded).resolve() if isinstance(recorded, str) else None


@contextlib.contextmanager
def writer_lock(index_dir: Path):
    """One writer at a time per index folder, across processes: a second writer waits for the first."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / ".lock", "w")
    except OSError as exc:
        reason = "it is a file, not a folder" if index_dir.is_file() else exc.strerror or exc
        raise RagError(f"cannot use {index_dir} as the index folder (RAG_INDEX_DIR): {reason}; "
                       "choose a folder you may write to") from None
    with handle:
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
