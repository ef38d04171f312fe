"""PostgreSQL + pgvector as a shared store, so several `rag serve` replicas answer from one corpus.

Every write (add, replace or remove a document, a folder load) is one transaction, seen by every replica on its
next question. Questions run SQL (an HNSW inner-product search, BM25 over stored stems), so no process
keeps a copy of the index that could go stale. FAISS files (store.py) stay the default for one machine.
"""

from __future__ import annotations

import contextlib
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from rag.index.terms import TermWeights, sentence_terms
from rag.contracts import Chunk, Hit
from rag.embed import Embedder
from rag.errors import (DatabaseError, DatabaseUnavailable, DocumentConflict, LastDocument, NoSuchDocument, RagError,
                        ReadOnlyStore)
from rag.index.build import chunk_and_embed, chunk_settings
from rag.index.sparse import B, K1, chunk_stems, stems
from rag.ingest.formats import listed
from rag.ingest.load import Document, corpus_changes, corpus_hashes, corpus_files, document_ids, read_document
from rag.ingest.clean import Block

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


CHECKOUT_TIMEOUT_S = 0.8  # a request waits this long for a working connection, then answers 503 (an outage)
CONNECT_TIMEOUT_S = 5  # a reconnect to an unreachable host gives up after this, unless the URL sets its own


def read_only(url: str) -> ReadOnlyStore:
    return ReadOnlyStore(f"the database at {redacted(url)} is a read-only replica: it answers questions, but adding "
                         "or removing documents and `rag index` must go to the primary")


IN_DOCUMENTS = "(%(doc_ids)s::text[] IS NULL OR c.doc_id = ANY(%(doc_ids)s::text[]))"
# BM25 as bm25s computes it for the FAISS store (same stems, k1, b and Lucene idf), from the stem arrays each
# chunk row keeps and the chunk and stem counts the writes keep; a repeated query word counts twice there too.
# Each query stem finds its chunks through the GIN index and reads its frequency at the same array position:
# 1-3 ms on 2,346 dev.jsonl chunks, against 13-29 ms for unnesting every matching chunk's stems.
BM25 = f"""
    SELECT c.row, sum(w.idf * c.tfs[array_position(c.stems, w.term)] / (c.tfs[array_position(c.stems, w.term)]
                      + {K1} * (1 - {B} + {B} * c.length / w.average))) AS score
    FROM (
        SELECT term, count(*) * ln(1 + (m.chunks - s.df + 0.5::float8) / (s.df + 0.5::float8)) AS idf,
               m.stem_tokens::float8 / greatest(m.chunks, 1) AS average
        FROM unnest(%(stems)s::text[]) AS term JOIN rag_stems s USING (term), rag_meta m
        GROUP BY term, s.df, m.chunks, m.stem_tokens) w
    JOIN rag_chunks c ON c.stems @> ARRAY[w.term]
    WHERE {IN_DOCUMENTS}
    GROUP BY c.row ORDER BY score DESC, c.row"""
HYBRID = f"""
    WITH dense AS (
        SELECT row, row_number() OVER () AS rank FROM (
            SELECT row FROM rag_chunks c WHERE {IN_DOCUMENTS} ORDER BY embedding <#> %(vector)s LIMIT %(depth)s) nearest),
    lexical AS (
        SELECT row, row_number() OVER () AS rank FROM ({BM25} LIMIT %(depth)s) matching),
    fused AS (
        SELECT row, sum(1.0::float8 / (%(rrf_k)s + rank)) AS score
        FROM (SELECT * FROM dense UNION ALL SELECT * FROM lexical) ranked
        GROUP BY row ORDER BY score DESC, row LIMIT %(k)s)
    SELECT row, chunk, score FROM fused JOIN rag_chunks USING (row) ORDER BY score DESC, row"""


def query_stems(query: str) -> list[str]:
    return stems([query])[0]


def storable(value: object) -> bool:
    """PostgreSQL text holds no NUL and only valid UTF-8 (no lone surrogates): no such id can be stored."""
    return isinstance(value, str) and "\x00" not in value and not re.search("[\ud800-\udfff]", value)


def redacted(url: str) -> str:
    """The connection string without its password, in any form libpq takes: a URL (whose password may hold an
    unencoded `@`), `?password=` in its query, or `key=value` words (parsed with psycopg's own parser)."""
    scheme = re.match(r"[a-z][a-z0-9+.-]*://", url, re.IGNORECASE)
    if scheme:
        rest = url[scheme.end():]
        query = rest.find("?")
        authority_end = rest.rfind("@", 0, query if query >= 0 else len(rest))
        if authority_end >= 0:  # everything before the last @ is user[:password]
            user, colon, _ = rest[:authority_end].partition(":")
            rest = f"{user}{':***' if colon else ''}{rest[authority_end:]}"
        return scheme.group() + re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", rest)
    try:
        words = conninfo_to_dict(url)
    except psycopg.Error:
        return "(a connection string that cannot be parsed)"
    if "password" in words:
        words["password"] = "***"
    return make_conninfo("", **words)


def _without_password(text: str, url: str) -> str:
    """A driver message may quote the connection string, or a host it read out of a password holding `@`."""
    secrets = []
    with contextlib.suppress(psycopg.Error):
        secrets.append(conninfo_to_dict(url).get("password") or "")
    userinfo = re.match(r"[a-z][a-z0-9+.-]*://([^?]*)@", url, re.IGNORECASE)
    if userinfo and ":" in userinfo.group(1):
        secrets += userinfo.group(1).partition(":")[2].split("@")
    text = text.replace(url, redacted(url))
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class PostgresStore:
    """Both halves of the store contract (rag/index/store.py): every process sees every write at once, so it
    is its own `current`, with no snapshot to swap and nothing to reload."""

    shared = True

    def __init__(self, pool: Pool, expected: dict, url: str, settings, embedder: Embedder,
                 log: Callable[[str], None]):
        self.pool = pool
        self.expected = expected
        self.url = url
        self.documents = Documents(pool)
        self.settings, self.embedder, self.log = settings, embedder, log

    @property
    def current(self) -> "PostgresStore":
        return self

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, settings, embedder: Embedder, rebuild: bool = False, sync: bool = False,
             log: Callable[[str], None] = print) -> "PostgresStore":
        """Connect, create the schema in an empty database, refuse one indexed with other settings; load the
        corpus folder when asked to (`rag index`) or when the database holds no documents yet."""
        if settings.database_url is None:
            raise DatabaseError("RAG_STORE=postgres needs RAG_DATABASE_URL (e.g. postgresql://user:pass@host/db)")
        url = settings.database_url.get_secret_value()
        expected = chunk_settings(settings, embedder)  # a database indexed otherwise is refused until rebuilt
        with _connect(url) as connection:
            if connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # a read replica: check, never write
                if rebuild or sync:
                    raise read_only(url)
                _check(connection, expected, url)
            else:
                _enable_pgvector(connection, url)
                if not rebuild:  # a rebuild re-creates the tables inside its load's transaction
                    _create_or_check(connection, expected, url)
        store = cls(_pool(url, settings.hnsw_ef_search), expected, url, settings, embedder, log)
        if rebuild or sync or not len(store.documents):
            store.load(fresh=rebuild)
        return store

    def close(self) -> None:
        self.pool.close()

    # --- reading (Searchable) ------------------------------------------------------------------

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        rows = self._select(f"SELECT row, chunk, -(embedding <#> %(vector)s) FROM rag_chunks c WHERE {IN_DOCUMENTS} "
                            "ORDER BY embedding <#> %(vector)s LIMIT %(k)s", {"vector": vector, "k": k}, doc_ids)
        return [Hit(row, Chunk.from_dict(chunk), float(score)) for row, chunk, score in rows]

    def _select(self, sql: str, params: dict, doc_ids: frozenset[str] | None) -> list[tuple]:
        """Rows of one query; with a document filter the HNSW index is set aside, because pgvector 0.6 filters
        after the index has picked its candidates and would return fewer than k of the allowed chunks."""
        with self.pool.connection() as connection, connection.transaction():
            if doc_ids is not None:
                connection.execute("SET LOCAL enable_indexscan = off")
            return connection.execute(sql, params | {"doc_ids": None if doc_ids is None else sorted(doc_ids)}).fetchall()

    def lexical(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """BM25, scored as the FAISS store's bm25s scores it, so both stores find the same passages."""
        if k <= 0:
            return []
        rows = self._select(f"SELECT row, chunk, score FROM ({BM25} LIMIT %(k)s) best JOIN rag_chunks USING (row) "
                            "ORDER BY score DESC, row", {"stems": query_stems(query), "k": k}, doc_ids)
        return [Hit(row, Chunk.from_dict(chunk), float(score)) for row, chunk, score in rows]

    def hybrid(self, vector: np.ndarray, query: str, k: int, rrf_k: int, depth: int,
               doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """Both rankings fused by reciprocal rank in one statement: one snapshot of the data, and only the
        k passages kept are fetched and parsed (not the `depth` candidates of each side)."""
        rows = self._select(HYBRID, {"vector": vector, "stems": query_stems(query), "k": k, "rrf_k": rrf_k,
                                     "depth": depth}, doc_ids)
        best = 2 / (rrf_k + 1)  # first in both rankings
        return [Hit(row, Chunk.from_dict(chunk), round(score / best, 4)) for row, chunk, score in rows]

    def term_weights(self) -> TermWeights:
        return DatabaseTermWeights(self.pool)

    def chunk_counts(self) -> dict[str, int]:
        with self.pool.connection() as connection:
            return dict(connection.execute("SELECT doc_id, count(*) FROM rag_chunks GROUP BY doc_id").fetchall())

    @property
    def manifest(self) -> dict:
        counts = self.chunk_counts()
        return self.expected | {"store": "postgres", "documents": len(self.documents), "chunks": sum(counts.values())}

    # --- writing: each call one transaction ------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self) -> Iterator[psycopg.Connection]:
        """One transaction holding the writer lock; on a read replica, one clear error instead of psycopg's."""
        try:
            with self.pool.connection() as connection, connection.transaction():
                _lock(connection)
                yield connection
        except psycopg.errors.ReadOnlySqlTransaction:
            raise read_only(self.url) from None

    def put(self, document: Document, chunks: list[Chunk], vectors: np.ndarray,
            original: tuple[str, bytes] | None = None, given: Mapping[str, str] | None = None) -> None:
        """Add or replace one document in one transaction, its metadata in `document.meta`. It is kept in the
        database only (replicas may not share a folder); one read from a corpus file is changed by editing that
        file."""
        with self._writing() as connection:
            row = connection.execute("SELECT file FROM rag_documents WHERE id = %s", (document.doc_id,)).fetchone()
            if row and row[0]:
                raise DocumentConflict(f"document {document.doc_id!r} is read from the file {row[0]} in the corpus "
                                       "folder: edit that file and run `rag index`, or choose another id")
            _delete(connection, document.doc_id)
            _insert(connection, [(document, None, document.sha256)], chunks, vectors)

    def delete(self, doc_id: str) -> None:
        with self._writing() as connection:
            if not storable(doc_id) or not _delete(connection, doc_id):
                raise NoSuchDocument(f"no document with id {doc_id!r}")
            if connection.execute("SELECT count(*) FROM rag_documents").fetchone()[0] == 0:
                raise LastDocument(f"{doc_id!r} is the last document; an index needs at least one")

    def sync(self) -> bool:
        return self.load()

    def load(self, fresh: bool = False) -> bool:
        """Bring the corpus folder in as one transaction: files whose bytes changed are re-embedded, files
        that are gone are removed, the rest is left alone. Killed midway, the database keeps its previous
        state. Documents added through the API (no file) are never touched. `fresh` drops and re-creates
        the tables first, in the same transaction (rag index --rebuild). True when anything changed."""
        from rag.nlp import load_nlp

        settings, log = self.settings, self.log
        source = Path(settings.source_dir)
        hashes = corpus_hashes(source) if source.is_dir() else {}
        with self._writing() as connection:
            indexed = connection.execute("SELECT file, id FROM rag_documents").fetchall() if connection.execute(
                "SELECT to_regclass('rag_documents')").fetchone()[0] else []
            if fresh:
                connection.execute("DROP TABLE IF EXISTS " + ", ".join(TABLES))
                _create(connection, self.expected)
            known = dict(connection.execute(
                "SELECT file, sha256 FROM rag_documents WHERE file IS NOT NULL").fetchall())
            # Every file keeps the id it had, even through a rebuild; a new file never takes an API document's id.
            ids = document_ids(corpus_files(source), {file: i for file, i in indexed if file},
                               () if fresh else {i for file, i in indexed if not file}) if source.is_dir() else {}
            changed, removed = corpus_changes(known, hashes)
            if not changed and not removed:
                return False
            for (doc_id,) in connection.execute("SELECT id FROM rag_documents WHERE file = ANY(%s)",
                                                (changed + removed,)).fetchall():
                _delete(connection, doc_id)
            documents = []
            for name in changed:
                try:
                    documents.append(read_document(source / name, ids[source / name]))
                except RagError as exc:
                    log(f"skipped {name}: {exc}")
            chunks, vectors = chunk_and_embed(documents, load_nlp(settings.spacy_model), self.embedder, settings,
                                              progress=True)
            _insert(connection, [(d, Path(d.path).name, hashes[Path(d.path).name]) for d in documents], chunks, vectors)
            if connection.execute("SELECT count(*) FROM rag_documents").fetchone()[0] == 0:
                raise RagError(f"no documents to index in {source}: add article files ({listed()}) there")
        log(f"{source}: {len(documents)} file(s) added or changed, {len(removed)} removed, in one transaction")
        return True


class Documents(Mapping):
    """The documents table as a read-only mapping by id."""

    def __init__(self, pool: Pool):
        self.pool = pool

    def _query(self, where: str = "", params: tuple = ()) -> list[Document]:
        with self.pool.connection() as connection:
            rows = connection.execute(
                f"SELECT id, coalesce(file, ''), text, title, blocks, meta FROM rag_documents {where} ORDER BY id",
                params).fetchall()
        return [Document(doc_id, path, text, title, [Block(*b) for b in blocks], meta)
                for doc_id, path, text, title, blocks, meta in rows]

    def __getitem__(self, doc_id: str) -> Document:
        found = self._query("WHERE id = %s", (doc_id,)) if storable(doc_id) else []
        if not found:
            raise KeyError(doc_id)
        return found[0]

    def __iter__(self) -> Iterator[str]:
        with self.pool.connection() as connection:
            return iter([r[0] for r in connection.execute("SELECT id FROM rag_documents ORDER BY id").fetchall()])

    def __contains__(self, doc_id: object) -> bool:
        if not storable(doc_id):
            return False
        with self.pool.connection() as connection:
            return connection.execute("SELECT 1 FROM rag_documents WHERE id = %s", (doc_id,)).fetchone() is not None

    def __len__(self) -> int:
        with self.pool.connection() as connection:
            return connection.execute("SELECT count(*) FROM rag_documents").fetchone()[0]

    def items(self):
        return [(d.doc_id, d) for d in self._query()]


class DatabaseTermWeights(TermWeights):
    """IDF from the counts the writes keep in rag_terms: one query per question, not a corpus copy."""

    def __init__(self, pool: Pool):
        super().__init__(1, {})
        self.pool = pool

    def counts(self, terms: list[str]) -> tuple[int, Mapping[str, int]]:
        with self.pool.connection() as connection:
            sentences, df = connection.execute(
                "SELECT (SELECT sentences FROM rag_meta), coalesce((SELECT jsonb_object_agg(term, df) FROM rag_terms "
                "WHERE term = ANY(%s)), '{}'::jsonb)", (list(terms),)).fetchone()
        return max(1, sentences), df


# --- SQL helpers ------------------------------------------------------------------------------------


def _connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise DatabaseError(f"cannot connect to the database at {redacted(url)}: "
                            f"{_without_password(reason, url)}") from None


class Pool(ConnectionPool):
    """psycopg's pool, where a database that went away is one clear, retryable error (503) within a second,
    not 30 s of waiting and a driver traceback; the pool reconnects by itself once the database is back."""

    def __init__(self, url: str, **kwargs):
        super().__init__(url, **kwargs)
        self.url = url

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        try:
            with super().connection(timeout=timeout) as connection:
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as exc:
            reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnavailable(f"the database at {redacted(self.url)} is unavailable "
                                      f"({_without_password(reason, self.url)}); retry shortly") from None


def _pool(url: str, ef_search: int) -> Pool:
    from pgvector.psycopg import register_vector

    def configure(connection: psycopg.Connection) -> None:
        register_vector(connection)
        connection.execute(f"SET hnsw.ef_search = {int(ef_search)}")
        # Plans made for the values at hand: "no document filter" then lets the planner use the HNSW index.
        connection.execute("SET plan_cache_mode = force_custom_plan")
        connection.commit()

    connect = {} if "connect_timeout" in conninfo_to_dict(url) else {"connect_timeout": CONNECT_TIMEOUT_S}
    # check: a connection broken by a database restart is replaced on checkout instead of failing a request
    pool = Pool(url, min_size=1, max_size=8, configure=configure, open=False, kwargs=connect,
                timeout=CHECKOUT_TIMEOUT_S, check=ConnectionPool.check_connection)
    pool.open(wait=True, timeout=15)
    return pool


def _enable_pgvector(connection: psycopg.Connection, url: str) -> None:
    try:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege:
        raise DatabaseError(f"the database at {redacted(url)} does not have the pgvector extension enabled, and "
                            "this user may not enable it: run `CREATE EXTENSION vector;` in it as its owner") from None
    except psycopg.Error as exc:
        raise DatabaseError(f"the database server at {redacted(url)} has no pgvector extension "
                            f"({str(exc).strip().splitlines()[0]}): install pgvector 0.5 or newer on it, "
                            "or use RAG_STORE=faiss") from None


def _create_or_check(connection: psycopg.Connection, expected: dict, url: str) -> None:
    with connection.transaction():
        _lock(connection)
        if not connection.execute("SELECT to_regclass('rag_meta') IS NOT NULL").fetchone()[0]:
            _create(connection, expected)
            return
    _check(connection, expected, url)


def _check(connection: psycopg.Connection, expected: dict, url: str) -> None:
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


def _create(connection: psycopg.Connection, expected: dict) -> None:
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


def _lock(connection: psycopg.Connection) -> None:
    connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))


def _delete(connection: psycopg.Connection, doc_id: str) -> bool:
    """Remove a document, its chunks and its share of the counts; False when there was none."""
    rows = connection.execute("SELECT chunk, stems, tfs FROM rag_chunks WHERE doc_id = %s", (doc_id,)).fetchall()
    _count(connection, [Chunk.from_dict(c) for c, _, _ in rows], [dict(zip(s, t)) for _, s, t in rows], -1)
    return connection.execute("DELETE FROM rag_documents WHERE id = %s", (doc_id,)).rowcount > 0


TEXT_OID, INT4_OID = 25, 23  # pg_type oids of text and int4
INT4 = struct.Struct(">i")
ARRAY_HEAD = struct.Struct(">iiIii")  # dimensions, has nulls, element type; then length and lower bound of one dimension


def _array(elements: list[bytes], oid: int) -> bytes:
    """A one-dimensional array without nulls in PostgreSQL's binary format (what array_send writes), from its
    elements' binary forms: psycopg's generic list dumper took 9 of the 26 s of copying 100,000 chunks."""
    if not elements:
        return struct.pack(">iiI", 0, 0, oid)  # no dimensions: the empty array
    return ARRAY_HEAD.pack(1, 0, oid, len(elements), 1) + b"".join(INT4.pack(len(e)) + e for e in elements)


def _insert(connection: psycopg.Connection, documents: list[tuple[Document, str | None, str]],
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
                                chunk.embedding_text(), vector, _array([t.encode() for t in tf], TEXT_OID),
                                _array([INT4.pack(n) for n in tf.values()], INT4_OID), tf.total()))
    if bulk:
        # at least 1 GB for this transaction (the HNSW graph of 100,000 chunks is about 200 MB), never less
        # than the server gives
        connection.execute("SELECT set_config('maintenance_work_mem', '1GB', true) "
                           "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('1GB')")
        connection.execute(EMBEDDING_INDEX)
        connection.execute(STEMS_INDEX)
    _count(connection, chunks, frequencies, +1)


def _count(connection: psycopg.Connection, chunks: list[Chunk], frequencies: list[Mapping[str, int]],
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
