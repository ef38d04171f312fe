"""The index as one value (stage 4): FAISS vectors, the chunks, the documents and a manifest.

A `Store` is never changed in place once served: adding or removing a document returns a new one, so a
question that took a store keeps a consistent view to its end. rag/index/persist.py writes and reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from rag.contracts import Chunk
from rag.index import vectors as vector_index
from rag.load import Document


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
