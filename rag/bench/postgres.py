"""The PostgreSQL store at scale: chunks loaded per second through the store's own write path (COPY into the
real schema, HNSW and full-text indexes kept up to date), top-10 query latency, and recall@10 against exact
search on the same vectors. Uses RAG_DATABASE_URL, or a throwaway PostgreSQL from pgserver when it is unset."""

from __future__ import annotations

import contextlib
import tempfile
import time

import numpy as np

from rag.bench.retrieval import recall_at_10, synthetic_vectors
from rag.bench.timing import each_ms
from rag.contracts import Chunk
from rag.load import Document

DOCUMENT_CHUNKS = 1_000  # synthetic chunks per synthetic document
BATCH_DOCUMENTS = 10  # documents per transaction while loading


@contextlib.contextmanager
def database(url: str | None):
    if url:
        yield url
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="rag-bench-pg-") as folder:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def measure_postgres(url: str | None, centres: np.ndarray, texts: list[str], queries: np.ndarray,
                     sizes: list[int], log) -> dict:
    import psycopg

    from rag.index.postgres import SCHEMA_VERSION, TABLES, _create, _insert, _pool

    results = {"schema_version": SCHEMA_VERSION, "queries": len(queries), "sizes": {}}
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    with database(url) as uri:
        for size in sizes:
            log(f"postgres: {size:,} chunks")
            vectors = synthetic_vectors(centres, size)
            with psycopg.connect(uri, autocommit=True) as connection:
                connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
                connection.execute("DROP TABLE IF EXISTS " + ", ".join(TABLES))
                _create(connection, {"dimension": vectors.shape[1], "bench": True})
            pool = _pool(uri)
            started = time.perf_counter()
            for first in range(0, size, DOCUMENT_CHUNKS * BATCH_DOCUMENTS):
                last = min(size, first + DOCUMENT_CHUNKS * BATCH_DOCUMENTS)
                documents, chunks = [], []
                for start in range(first, last, DOCUMENT_CHUNKS):
                    doc_id = f"d{start // DOCUMENT_CHUNKS}"
                    documents.append((Document(doc_id, "", "synthetic", doc_id, []), None, doc_id))
                    chunks += [Chunk(f"{doc_id}#{i}", doc_id, doc_id, 0, 0, texts[i % len(texts)], [])
                               for i in range(start, min(last, start + DOCUMENT_CHUNKS))]
                with pool.connection() as connection, connection.transaction():
                    _insert(connection, documents, chunks, vectors[first:last])
            load_s = time.perf_counter() - started
            exact = vectors @ queries.T
            truth = np.argsort(-exact, axis=0)[:10].T

            def top10(query: np.ndarray) -> list[int]:
                with pool.connection() as connection:
                    rows = connection.execute("SELECT row FROM rag_chunks ORDER BY embedding <#> %s LIMIT 10",
                                              (query,)).fetchall()
                return [row - 1 for (row,) in rows]  # rows count from 1 in load order

            latency = each_ms(top10, list(queries))
            found = np.array([top10(q) for q in queries])
            results["sizes"][str(size)] = {
                "load_s": round(load_s, 1), "load_chunks_per_s": round(size / load_s, 1),
                "latency_ms": latency, "recall_at_10": round(recall_at_10(truth, found), 4),
            }
            pool.close()
    return results
