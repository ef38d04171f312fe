"""The PostgreSQL store at scale: chunks loaded per second through the store's own write path (COPY into the
real schema, HNSW and BM25 stem indexes kept up to date), top-10 query latency, and recall@10 against exact
search on the same vectors. Uses RAG_DATABASE_URL, or a throwaway PostgreSQL from pgserver when it is unset."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import tempfile
import time

import numpy as np
import psycopg

from rag.tools.bench.retrieval import recall_at_10, synthetic_vectors
from rag.tools.bench.timing import each_ms
from rag.contracts import Chunk
from rag.ingest.load import Document

DOCUMENT_CHUNKS = 1_000  # synthetic chunks per synthetic document
ADDED = 200  # chunks added one document at a time afterwards, as POST /documents does
# The throwaway server is set up as the README advises for production: shared_buffers holding the HNSW index
# (about 200 MB per 100,000 chunks; with pgserver's 128 MB, query p50 at 100,000 chunks was 5.1-5.8 ms against 3.1-3.6),
# and maintenance_work_mem holding the graph while it is built (at 1M chunks the build ran on disk with 1 GB and
# had not finished after 35 minutes).
SERVER_SETTINGS = {"shared_buffers": "2GB", "maintenance_work_mem": "4GB"}


@contextlib.contextmanager
def database(url: str | None):
    if url:
        yield url
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="rag-bench-pg-") as folder:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        previous = signal.signal(signal.SIGTERM, _stop)  # a bench ended by `timeout` or CI still stops its server
        try:
            with psycopg.connect(server.get_uri(), autocommit=True) as connection:
                for name, value in SERVER_SETTINGS.items():
                    connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            pgserver.pg_ctl(["-w", "-l", str(server.log), "restart"], pgdata=server.pgdata, user=server.system_user)
            yield server.get_uri()
        finally:
            signal.signal(signal.SIGTERM, previous)
            # pgserver stops the postmaster it started, which the restart replaced: stop this one here
            with contextlib.suppress(subprocess.CalledProcessError):
                pgserver.pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user)
            server.cleanup()


def _stop(signum, frame):
    raise SystemExit(128 + signum)


def synthetic_documents(texts: list[str], first: int, count: int, prefix: str = "d"):
    """Documents of up to DOCUMENT_CHUNKS chunks each, holding chunks first .. first + count - 1."""
    documents, chunks = [], []
    for start in range(first, first + count, DOCUMENT_CHUNKS):
        doc_id = f"{prefix}{start // DOCUMENT_CHUNKS}-{start}"
        documents.append((Document(doc_id, "", "synthetic", doc_id, []), None, doc_id))
        chunks += [Chunk(f"{doc_id}#{i}", doc_id, doc_id, 0, 0, texts[i % len(texts)], [])
                   for i in range(start, min(first + count, start + DOCUMENT_CHUNKS))]
    return documents, chunks


def measure_postgres(url: str | None, centres: np.ndarray, texts: list[str], queries: np.ndarray,
                     sizes: list[int], ef_search: int, log) -> dict:
    from rag.index.postgres import schema
    from rag.index.postgres.connection import open_pool

    results = {"schema_version": schema.SCHEMA_VERSION, "queries": len(queries), "ef_search": ef_search, "sizes": {}}
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    with database(url) as uri:
        with psycopg.connect(uri) as connection:
            results["server"] = {name: connection.execute(f"SHOW {name}").fetchone()[0]
                                 for name in ("server_version", *SERVER_SETTINGS, "max_parallel_maintenance_workers")}
        for size in sizes:
            log(f"postgres: {size:,} chunks")
            vectors = synthetic_vectors(centres, size)
            with psycopg.connect(uri, autocommit=True) as connection:
                connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
                connection.execute("DROP TABLE IF EXISTS " + ", ".join(schema.TABLES))
                schema.create(connection, {"dimension": vectors.shape[1], "bench": True})
            pool = open_pool(uri, ef_search)
            documents, chunks = synthetic_documents(texts, 0, size)
            started = time.perf_counter()
            with pool.connection() as connection, connection.transaction():  # what `rag index` does with a folder
                schema.insert(connection, documents, chunks, vectors)
            load_s = time.perf_counter() - started
            extra = synthetic_vectors(centres, ADDED, seed=1)
            started = time.perf_counter()
            for n in range(ADDED // 10):  # documents of 10 chunks, one transaction each
                documents, chunks = synthetic_documents(texts, size + n * 10, 10, prefix="added")
                with pool.connection() as connection, connection.transaction():
                    schema.insert(connection, documents, chunks, extra[n * 10 : n * 10 + 10])
            add_s = time.perf_counter() - started
            with pool.connection() as connection:
                connection.execute("DELETE FROM rag_documents WHERE id LIKE 'added%'")
            exact = vectors @ queries.T
            truth = np.argsort(-exact, axis=0)[:10].T

            def top10(query: np.ndarray) -> list[int]:
                rows = connection.execute("SELECT row FROM rag_chunks ORDER BY embedding <#> %s LIMIT 10",
                                          (query,)).fetchall()
                return [row - 1 for (row,) in rows]  # rows count from 1 in load order

            searched = {}
            with pool.connection() as connection:
                for ef in sorted({100, 400, ef_search, 800}):  # the setting, and what less and more would give
                    connection.execute(f"SET hnsw.ef_search = {ef}")
                    latency = each_ms(top10, list(queries))
                    found = np.array([top10(q) for q in queries])
                    searched[ef] = {"latency_ms": latency, "recall_at_10": round(recall_at_10(truth, found), 4)}
                connection.execute(f"SET hnsw.ef_search = {ef_search}")
            results["sizes"][str(size)] = {
                "load_s": round(load_s, 1), "load_chunks_per_s": round(size / load_s, 1),
                "add_chunks_per_s": round(ADDED / add_s, 1), **searched[ef_search],
                "by_ef_search": {str(ef): {"p50_ms": row["latency_ms"]["p50"], "recall_at_10": row["recall_at_10"]}
                                 for ef, row in searched.items()},
            }
            pool.close()
    return results
