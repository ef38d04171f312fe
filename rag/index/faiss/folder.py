"""The `faiss` store's side of the store contract: the corpus folder and the index folder change together.

The corpus folder is the truth. A document added through the API becomes a file there first (with its
`.meta.json` sidecar when metadata was given), then a new index generation records it; a failure puts the
corpus back. Questions read `current`, an immutable `Store`: a write makes a new one, so a question in flight
keeps a consistent view. One writer at a time across processes (the index folder's writer lock), each
starting from the newest saved generation, so no acknowledged write is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping

import numpy as np

from rag.atomic import removing_all, write_bytes
from rag.contracts import Chunk
from rag.errors import DocumentConflict, LastDocument, NoSuchDocument
from rag.ingest.formats import is_converted, is_text
from rag.index.faiss import vectors as vector_index
from rag.index.faiss.build import file_ids, refreshed
from rag.index.faiss.persist import current_generation, load, save_locked, writer_lock
from rag.index.faiss.store import Store
from rag.ingest.load import Document, article_digest, sidecar_meta, sidecar_path
from rag.language.nlp import load_nlp


class FolderIndex:
    shared = False  # this process's writes swap its snapshot; other processes' writes are found by `sync`

    def __init__(self, settings, store: Store, embedder, log: Callable[[str], None]):
        self.settings, self.embedder, self.log = settings, embedder, log
        self._current = self._served(store)

    @property
    def current(self) -> Store:
        return self._current

    @property
    def manifest(self) -> dict:
        return self._current.manifest

    def put(self, document: Document, chunks: list[Chunk], vectors: np.ndarray,
            original: tuple[str, bytes] | None = None, given: Mapping[str, str] | None = None) -> None:
        """Add or replace one document: its file (an uploaded .pdf, .docx or .html kept as it came; text as
        .txt, or the name an earlier text file had), its sidecar holding the metadata given (none given: no
        sidecar, so the file's own metadata counts again), then a generation."""
        doc_id = document.doc_id
        suffix = os.path.splitext(original[0])[1].lower() if original else ""
        kept = original is not None and is_converted(suffix)
        payload = original[1] if kept else document.text.encode("utf-8")
        sidecar_bytes = json.dumps(dict(given), indent=2).encode("utf-8") if given else None

        def change(store: Store) -> Store:
            existing = store.documents.get(doc_id)
            old = os.path.basename(existing.path) if existing and existing.path else None
            if kept:
                name = f"{doc_id}{suffix}"
            elif old and is_text(os.path.splitext(old)[1]):  # replacing notes.md rewrites notes.md, not a new notes.txt
                name = old
            else:
                name = f"{doc_id}{suffix if is_text(suffix) else '.txt'}"
            path = self.settings.source_dir / name
            if name != old and path.exists():
                owner = file_ids(store).get(name)
                raise DocumentConflict(f"the corpus folder already holds {name}" + (
                    f" (document {owner!r})" if owner else "") + f"; choose another id than {doc_id!r}"
                    + (f", or replace {owner!r}" if owner else ""))
            replaced = self.settings.source_dir / old if old and old != name else None
            document.path = str(path)
            sidecar = sidecar_path(path)
            previous = {file: file.read_bytes() if file.exists() else None for file in (path, sidecar)}
            write_bytes(path, payload)
            try:
                if sidecar_bytes is not None:
                    write_bytes(sidecar, sidecar_bytes)
                else:  # a new upload without fields: the file's own metadata again, not an earlier upload's
                    sidecar.unlink(missing_ok=True)
                document.meta |= sidecar_meta(path)  # what a rebuild will find
                updated = store.with_document(document, chunks, vectors)
                kept_sidecar = sidecar_bytes
                corpus = store.manifest["corpus"] | {name: article_digest(payload, kept_sidecar)}
                if replaced is not None:
                    corpus.pop(replaced.name, None)
                updated.manifest["corpus"] = corpus
                with removing_all(*((replaced, sidecar_path(replaced)) if replaced is not None else ())):
                    self._save(updated)
            except BaseException:  # e.g. a full disk: put the corpus back as the served index knows it
                for file, before in previous.items():
                    if before is None:
                        file.unlink(missing_ok=True)
                    else:
                        write_bytes(file, before)
                raise
            return updated

        self._write(change)

    def delete(self, doc_id: str) -> None:
        """Remove a document, its file and its sidecar, all or nothing."""

        def change(store: Store) -> Store:
            document = store.documents.get(doc_id)
            if document is None:
                raise NoSuchDocument(f"no document with id {doc_id!r}")
            if len(store.documents) == 1:
                raise LastDocument(f"{doc_id!r} is the last document; an index needs at least one")
            name = os.path.basename(document.path or f"{doc_id}.txt")
            updated = store.without_document(doc_id)
            updated.manifest["corpus"] = {k: v for k, v in store.manifest["corpus"].items() if k != name}
            path = self.settings.source_dir / name
            # All or nothing: a save that fails (a full disk) leaves the file and its metadata where they were.
            with removing_all(path, sidecar_path(path)):
                self._save(updated)
            return updated

        self._write(change)

    def sync(self) -> bool:
        """Bring in files added, edited or removed in the corpus folder by anyone; True when anything changed."""

        def change(store: Store) -> Store | None:
            updated = refreshed(store, self.settings, self.embedder, load_nlp(self.settings.spacy_model), self.log)
            if updated is not None:
                self._save(updated)
            return updated

        return self._write(change)

    def _write(self, change: Callable[[Store], Store | None]) -> bool:
        # The lock is a flock on a file opened per call: it orders this process's threads as well as other processes.
        with writer_lock(self.settings.index_dir):
            store = self._current
            if current_generation(self.settings.index_dir) not in (None, store.generation):
                store = load(self.settings.index_dir)  # another process sharing the folder saved since
            updated = change(store)
            if updated is not None or store is not self._current:
                self._current = self._served(updated or store)
            return updated is not None

    def _save(self, store: Store) -> None:
        store.manifest |= {"documents": len(store.documents), "chunks": len(store.chunks)}
        save_locked(store, self.settings.index_dir)

    def _served(self, store: Store) -> Store:
        vector_index.set_nprobe(store.vectors, self.settings.ivf_nprobe)
        return store
