"""The index as one value (stage 4): FAISS vectors, BM25, the chunks, the documents and a manifest.

The store contract has two halves. `Searchable` is what questions read; `Index` is what the pipeline holds:
its `current` searchable, and the writes (put, delete, sync from the corpus folder). Two stores implement
both: `faiss` (folder.py over this module's `Store`, an immutable value: adding or removing a document
returns a new one, so a question that took a store keeps a consistent view to its end; persist.py writes and
reads it) and `postgres` (postgres.py, one database shared by several processes, its own `current`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Protocol

import faiss
import numpy as np

from rag.contracts import Chunk, Hit
from rag.index import vectors as vector_index
from rag.ingest.load import Document

if TYPE_CHECKING:
    from rag.index.terms import TermWeights
    from rag.index.sparse import Bm25


class Searchable(Protocol):
    """What retrievers, answerers and the service need from a store, whichever holds the index."""

    documents: Mapping[str, Document]
    # A capability: a store that fuses dense and lexical rankings in one query of its own has `hybrid`
    # (vector, query, k, rrf_k, depth, doc_ids) -> hits; otherwise None, and the retriever fuses them.
    hybrid: Callable[..., list[Hit]] | None

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]: ...
    def lexical(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]: ...
    def term_weights(self) -> TermWeights: ...
    def chunk_counts(self) -> Mapping[str, int]: ...  # chunks per document


class Index(Protocol):
    """A store as the pipeline holds it: what questions read now, and the writes. Each write keeps the corpus
    and the index together, all or nothing; errors are rag.errors' (NoSuchDocument, LastDocument,
    DocumentConflict, ReadOnlyStore, DatabaseUnavailable)."""

    shared: bool  # True when other processes write to it too (postgres): there is no corpus folder to watch
    manifest: dict  # the settings the index was built with, and its counts

    @property
    def current(self) -> Searchable: ...

    def put(self, document: Document, chunks: list[Chunk], vectors: np.ndarray,
            original: tuple[str, bytes] | None = None, given: Mapping[str, str] | None = None) -> None:
        """Add or replace one document, already chunked and embedded. `original` is the uploaded file it was
        extracted from, `given` the metadata given with it; a store with a corpus folder keeps both there."""

    def delete(self, doc_id: str) -> None: ...

    def sync(self) -> bool:
        """Bring in the corpus folder's added, edited and removed files; True when anything changed."""


@dataclass
class Store:
    manifest: dict
    vectors: faiss.Index
    chunks: list[Chunk]
    documents: dict[str, Document]
    generation: str = ""  # the folder it was loaded from or saved to; "" while only in memory
    stems: list[list[str]] | None = None  # each chunk's BM25 terms, in chunk order; computed when first needed
    hybrid: ClassVar[None] = None  # dense and lexical rankings are fused by the retriever

    def search(self, query: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[tuple[int, float]]:
        """(chunk position, cosine score) for the k nearest chunks, of the documents in `doc_ids` when given
        (filtered before ranking: every allowed chunk is a candidate, IVF lists included)."""
        params = None
        if doc_ids is not None:
            allowed = self.positions(doc_ids)
            selector = faiss.IDSelectorBatch(np.array(allowed, dtype=np.int64))
            params = (faiss.SearchParametersIVF(sel=selector, nprobe=self.vectors.nlist)
                      if isinstance(self.vectors, faiss.IndexIVF) else faiss.SearchParameters(sel=selector))
            k = min(k, len(allowed))
        k = min(k, self.vectors.ntotal)
        if k == 0:
            return []
        scores, positions = self.vectors.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if p >= 0]

    def positions(self, doc_ids: frozenset[str]) -> list[int]:
        return [i for i, chunk in enumerate(self.chunks) if chunk.doc_id in doc_ids]

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        return [Hit(p, self.chunks[p], s) for p, s in self.search(vector, k, doc_ids)]

    def lexical(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        bm25 = self._bm25  # built on first use, which LexicalRetriever makes happen before the store is served
        if not query:
            return []
        allowed = None if doc_ids is None else self.positions(doc_ids)
        return [Hit(p, self.chunks[p], s) for p, s in bm25.search(query, k, allowed)]

    @cached_property
    def _bm25(self) -> Bm25:
        from rag.index.sparse import Bm25

        return Bm25(self.chunk_stems())

    def chunk_stems(self) -> list[list[str]]:
        if self.stems is None:
            from rag.index.sparse import chunk_stems

            self.stems = chunk_stems(self.chunks)
        return self.stems

    def term_weights(self) -> TermWeights:
        return self._weights

    @cached_property
    def _weights(self) -> TermWeights:
        from rag.index.terms import TermWeights

        return TermWeights.of(self.chunks)

    def chunk_counts(self) -> Counter[str]:
        return Counter(chunk.doc_id for chunk in self.chunks)

    def without_document(self, doc_id: str) -> "Store":
        """A copy minus one document; its vectors are dropped, the rest reused, nothing re-embedded."""
        keep = [i for i, chunk in enumerate(self.chunks) if chunk.doc_id != doc_id]
        vectors = vector_index.refilled(self.vectors, vector_index.all_vectors(self.vectors)[keep])
        documents = {k: v for k, v in self.documents.items() if k != doc_id}
        stems = None if self.stems is None else [self.stems[i] for i in keep]
        return Store(dict(self.manifest), vectors, [self.chunks[i] for i in keep], documents, stems=stems)

    def with_document(self, document: Document, chunks: list[Chunk], vectors: np.ndarray) -> "Store":
        """A copy with one document added (or replaced), embedding only that document."""
        store = self.without_document(document.doc_id) if document.doc_id in self.documents else self
        index = vector_index.with_more(store.vectors, vectors)
        stems = None
        if store.stems is not None:  # stem only the new chunks
            from rag.index.sparse import chunk_stems

            stems = store.stems + chunk_stems(chunks)
        return Store(dict(store.manifest), index, store.chunks + chunks, store.documents | {document.doc_id: document},
                     stems=stems)
