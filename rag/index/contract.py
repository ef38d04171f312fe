"""The store contract (stage 4), in two halves. `Searchable` is what questions read; `Index` is what the pipeline
holds: its `current` searchable, and the writes (put, delete, sync from the corpus folder). Two stores implement
both: `faiss` (rag/index/faiss/, files in the index folder) and `postgres` (rag/index/postgres/, one database
shared by several processes). Stdlib only at run time, like rag/contracts.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from rag.contracts import Chunk, Hit

if TYPE_CHECKING:
    import numpy as np

    from rag.index.terms import TermWeights
    from rag.ingest.load import Document


class Searchable(Protocol):
    """What retrievers, answerers and the service need from a store, whichever holds the index.

    Attributes:
        documents: every indexed document by id (title, text, blocks, metadata).
        hybrid: a capability. A store that fuses dense and lexical rankings in one query of its own has it,
            as (vector, query, k, rrf_k, depth, doc_ids) -> hits; otherwise None, and the retriever fuses them.
    """

    documents: Mapping[str, Document]
    hybrid: Callable[..., list[Hit]] | None

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """Nearest passages by inner product of normalised vectors.

        Args:
            vector: the query's embedding, normalised. k: how many.
            doc_ids: search only these documents, filtered before ranking; None for all.

        Returns:
            At most k hits, best first, scored by cosine.
        """

    def lexical(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """BM25 over stemmed words, the same scores in both stores.

        Args:
            query: plain text. k: how many. doc_ids: as in `dense`.

        Returns:
            At most k hits, best first, scored by BM25; none when no query word is indexed.
        """

    def term_weights(self) -> TermWeights:
        """Returns: corpus statistics for weighing question terms (rare words say more)."""

    def chunk_counts(self) -> Mapping[str, int]:
        """Returns: the number of chunks of each document, by id."""


class Index(Protocol):
    """A store as the pipeline holds it: what questions read now, and the writes. Each write keeps the corpus
    and the index together, all or nothing.

    Attributes:
        shared: True when other processes write to it too (postgres): there is no corpus folder to watch.
        manifest: the settings the index was built with, and its counts.
    """

    shared: bool
    manifest: dict

    @property
    def current(self) -> Searchable:
        """Returns: what questions read now; a new object after a write that changed it (faiss), or the store
        itself when every process sees every write at once (postgres)."""

    def put(self, document: Document, chunks: list[Chunk], vectors: np.ndarray,
            original: tuple[str, bytes] | None = None, given: Mapping[str, str] | None = None) -> None:
        """Add or replace one document, already chunked and embedded.

        Args:
            document: the document; an existing id is replaced.
            chunks, vectors: its chunks and their embeddings, in the same order.
            original: the uploaded file (name, bytes) it was extracted from; a store with a corpus folder keeps it.
            given: the metadata given with it (published, url, byline); kept beside the file there.

        Raises:
            DocumentConflict: the id would take over another document's file. ReadOnlyStore: a read replica.
        """

    def delete(self, doc_id: str) -> None:
        """Remove one document, and its file when the store has a corpus folder.

        Raises:
            NoSuchDocument: no document has this id. LastDocument: it is the only one.
        """

    def sync(self) -> bool:
        """Bring in the corpus folder's added, edited and removed files, embedding only those.

        Returns:
            True when anything changed.
        """
