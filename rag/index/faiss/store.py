"""The `faiss` store's index as one immutable value: FAISS vectors, BM25, the chunks, the documents and a
manifest. Adding or removing a document returns a new value, so a question that took one keeps a consistent
view to its end; persist.py writes and reads it, folder.py keeps it and the corpus folder together."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import faiss
import numpy as np

from rag.contracts import Chunk, Hit
from rag.index.faiss import vectors as vector_index
from rag.ingest.load import Document

if TYPE_CHECKING:
    from rag.index.sparse import Bm25
    from rag.index.terms import TermWeights


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
