"""The tables and the writes' SQL: schema creation and checks, the writer lock, and documents and chunks in
and out with the corpus counts kept in step."""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Mapping

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from rag.contracts import Chunk
from rag.errors import DatabaseError
from rag.index.postgres.connection import redacted
from rag.index.sparse import chunk_stems
from rag.index.terms import sentence_terms
from rag.ingest.load import Document

SCHEMA_VERSION = 3  # 2: BM25 over stored stems replaced PostgreSQL full-text ranking; 3: document metadata
WRITER_LOCK = 0x7261_6700  # pg_advisory_xact_lock key: one writer at a time, across replicas
TABLES = ("rag_chunks", "rag_terms", "rag_stems", "rag_documents", "rag_meta")
# pgvector's defaults (m 16, ef_construction 64), searched with ef_search 600: on 100,000 clustered chunks m 24 /
# ef_construction 100 gained about 0.01 recall@10 at ef_search 400 (0.942-0.976 against 0.942-0.964 over three
# builds each) for twice the build time, which is most of a bulk load.
EMBEDDING_INDEX = "CREATE INDEX rag_chunks_embedding ON rag_chunks USING hnsw (embedding vector_ip_ops)"
STEMS_INDEX = "CREATE INDEX rag_chunks_stems ON rag_chunks USING gin (stems)"
# From this many new chunks a load drops the HNSW and stem indexes and builds them again after COPY: about 10
# times faster than inserting into them row by row, but questions on other replicas wait for the load's commit.
BULK_CHUNKS = 10_000


def enable_pgvector(connection: psycopg.Connection, url: str) -> None:
    try:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege:
        raise DatabaseError(f"the database at {redacted(url)} does not have the pgvector extension enabled, and "
                            "this user may not enable it: run `CREATE EXTENSION vector;` in it as its owner") from None
    except psycopg.Error as exc:
        raise DatabaseError(f"the database server at {redacted(url)} has no pgvector extension "
                            f"({str(exc).strip().splitlines()[0]}): install pgvector 0.5 or newer on it, "
                            "or use RAG_STORE=faiss") from None


def create_or_check(connection: psycopg.Connection, expected: dict, url: str) -> None:
    with connection.transaction():
        lock(connection)
        if not connection.execute("SELECT to_regclass('rag_meta') IS NOT NULL").fetchone()[0]:
            create(connection, expected)
            return
    check(connection, expected, url)


def check(connection: psycopg.Connection, expected: dict, url: str) -> None:
    """The schema version and the settings every stored chunk depends on, as this process would index."""
    if not connection.execute("SELECT to_regclass('rag_meta') IS NOT NULL").fetchone()[0]:
        raise DatabaseError(f"the read replica at {redacted(url)} holds no rag tables yet: run `rag index` against "
                            "the primary first")
    version, stored = connection.execute("SELECT schema_version, settings FROM rag_meta").fetchone()
    if version != SCHEMA_VERSION:
        raise DatabaseError(f"the database holds schema version {version}; this version of rag uses "
                            f"{SCHEMA_VERSION}. Rebuild it with: rag index --rebuild (re-embeds every document)")
    changed = [f"{key}: {stored.get(key)!r} → {value!r}" for key, value in expected.items() if stored.get(key) != value]
    if changed:
        raise DatabaseError("the database was indexed with other settings (" + "; ".join(changed) + "). Use the "
                            "same settings, or rebuild it with: rag index --rebuild (re-embeds every document)")


def create(connection: psycopg.Connection, expected: dict) -> None:
    dimension = int(expected["dimension"])
    connection.execute("""
        CREATE TABLE rag_meta (
            schema_version int NOT NULL, settings jsonb NOT NULL, sentences bigint NOT NULL DEFAULT 0,
            chunks bigint NOT NULL DEFAULT 0, stem_tokens bigint NOT NULL DEFAULT 0);
        CREATE TABLE rag_documents (
            id text PRIMARY KEY, title text NOT NULL, file text UNIQUE, text text NOT NULL,
            blocks jsonb NOT NULL, sha256 text NOT NULL, added timestamptz NOT NULL DEFAULT now(),
            meta jsonb NOT NULL DEFAULT '{}');
        CREATE TABLE rag_terms (term text PRIMARY KEY, df bigint NOT NULL);
        CREATE TABLE rag_stems (term text PRIMARY KEY, df bigint NOT NULL);
    """)
    connection.execute(f"""
        CREATE TABLE rag_chunks (
            row bigserial PRIMARY KEY,
            doc_id text NOT NULL REFERENCES rag_documents (id) ON DELETE CASCADE,
            position int NOT NULL, chunk jsonb NOT NULL, text text NOT NULL,
            embedding vector({dimension}) NOT NULL,
            stems text[] NOT NULL, tfs int[] NOT NULL, length int NOT NULL);
        CREATE INDEX rag_chunks_doc ON rag_chunks (doc_id);
    """)
    connection.execute(EMBEDDING_INDEX)
    connection.execute(STEMS_INDEX)
    connection.execute("INSERT INTO rag_meta (schema_version, settings) VALUES (%s, %s)",
                       (SCHEMA_VERSION, Jsonb(expected)))


def lock(connection: psycopg.Connection) -> None:
    connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))


def delete(connection: psycopg.Connection, doc_id: str) -> bool:
    """Remove a document, its chunks and its share of the counts; False when there was none."""
    rows = connection.execute("SELECT chunk, stems, tfs FROM rag_chunks WHERE doc_id = %s", (doc_id,)).fetchall()
    count(connection, [Chunk.from_dict(c) for c, _, _ in rows], [dict(zip(s, t)) for _, s, t in rows], -1)
    return connection.execute("DELETE FROM rag_documents WHERE id = %s", (doc_id,)).rowcount > 0


TEXT_OID, INT4_OID = 25, 23  # pg_type oids of text and int4
INT4 = struct.Struct(">i")
ARRAY_HEAD = struct.Struct(">iiIii")  # dimensions, has nulls, element type; then length and lower bound of one dimension


def array(elements: list[bytes], oid: int) -> bytes:
    """A one-dimensional array without nulls in PostgreSQL's binary format (what array_send writes), from its
    elements' binary forms: psycopg's generic list dumper took 9 of the 26 s of copying 100,000 chunks."""
    if not elements:
        return struct.pack(">iiI", 0, 0, oid)  # no dimensions: the empty array
    return ARRAY_HEAD.pack(1, 0, oid, len(elements), 1) + b"".join(INT4.pack(len(e)) + e for e in elements)


def insert(connection: psycopg.Connection, documents: list[tuple[Document, str | None, str]],
            chunks: list[Chunk], vectors: np.ndarray) -> None:
    """Documents by one multi-row insert, chunks (with their stems' frequencies) by binary COPY, then the counts."""
    bulk = len(chunks) >= BULK_CHUNKS
    if bulk:
        connection.execute("DROP INDEX rag_chunks_embedding, rag_chunks_stems")
    frequencies = [Counter(terms) for terms in chunk_stems(chunks)]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO rag_documents (id, title, file, text, blocks, sha256, meta) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(d.doc_id, d.title, file, d.text, Jsonb([[b.kind, b.start, b.end] for b in d.blocks]), digest,
              Jsonb(d.meta)) for d, file, digest in documents])
        positions: dict[str, int] = {}
        with cursor.copy("COPY rag_chunks (doc_id, position, chunk, text, embedding, stems, tfs, length) "
                         "FROM STDIN (FORMAT BINARY)") as copy:
            # stems and tfs go as ready-made array bytes (see _array), which psycopg passes on as they are
            copy.set_types(["text", "int4", "jsonb", "text", "vector", "bytea", "bytea", "int4"])
            for chunk, vector, tf in zip(chunks, np.asarray(vectors, dtype=np.float32), frequencies):
                positions[chunk.doc_id] = positions.get(chunk.doc_id, -1) + 1
                copy.write_row((chunk.doc_id, positions[chunk.doc_id], Jsonb(chunk.to_dict()),
                                chunk.embedding_text(), vector, array([t.encode() for t in tf], TEXT_OID),
                                array([INT4.pack(n) for n in tf.values()], INT4_OID), tf.total()))
    if bulk:
        # at least 1 GB for this transaction (the HNSW graph of 100,000 chunks is about 200 MB), never less
        # than the server gives
        connection.execute("SELECT set_config('maintenance_work_mem', '1GB', true) "
                           "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('1GB')")
        connection.execute(EMBEDDING_INDEX)
        connection.execute(STEMS_INDEX)
    count(connection, chunks, frequencies, +1)


def count(connection: psycopg.Connection, chunks: list[Chunk], frequencies: list[Mapping[str, int]],
           sign: int) -> None:
    """Keep the corpus counts in step with the chunks: sentences per lemma (rag_terms, for the answerers'
    term weights) and chunks per stem with the chunk and stem totals (rag_stems, rag_meta: for BM25)."""
    if not chunks:
        return
    sentences, lemmas = sentence_terms(chunks)
    for table, df in (("rag_terms", lemmas), ("rag_stems", Counter(t for tf in frequencies for t in tf))):
        connection.execute(
            f"INSERT INTO {table} (term, df) SELECT * FROM unnest(%s::text[], %s::bigint[]) "
            f"ON CONFLICT (term) DO UPDATE SET df = {table}.df + EXCLUDED.df",
            (list(df), [sign * n for n in df.values()]))
        connection.execute(f"DELETE FROM {table} WHERE term = ANY(%s) AND df <= 0", (list(df),))
    connection.execute("UPDATE rag_meta SET sentences = sentences + %s, chunks = chunks + %s, "
                       "stem_tokens = stem_tokens + %s",
                       (sign * sentences, sign * len(chunks), sign * sum(sum(tf.values()) for tf in frequencies)))
