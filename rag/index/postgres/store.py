"""PostgreSQL + pgvector as a shared store, so several `rag serve` replicas answer from one corpus.

Every write (add, replace or remove a document, a folder load) is one transaction, seen by every replica on its
next question. Questions run SQL (an HNSW inner-product search, BM25 over stored stems), so no process
keeps a copy of the index that could go stale. FAISS files (rag/index/faiss/) stay the default for one machine.
connection.py opens the database, schema.py holds the tables and the writes' SQL.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import psycopg

from rag.contracts import Chunk, Hit
from rag.embed import Embedder
from rag.errors import DatabaseError, DocumentConflict, LastDocument, NoSuchDocument, RagError
from rag.index.postgres import schema
from rag.index.postgres.connection import Pool, connect, open_pool, read_only
from rag.index.prepare import chunk_and_embed, chunk_settings
from rag.index.sparse import B, K1, stems
from rag.index.terms import TermWeights
from rag.ingest.clean import Block
from rag.ingest.formats import listed
from rag.ingest.load import Document, corpus_changes, corpus_hashes, corpus_files, document_ids, read_document

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


class PostgresStore:
    """Both halves of the store contract (rag/index/contract.py): every process sees every write at once, so it
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
        with connect(url) as connection:
            if connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # a read replica: check, never write
                if rebuild or sync:
                    raise read_only(url)
                schema.check(connection, expected, url)
            else:
                schema.enable_pgvector(connection, url)
                if not rebuild:  # a rebuild re-creates the tables inside its load's transaction
                    schema.create_or_check(connection, expected, url)
        store = cls(open_pool(url, settings.hnsw_ef_search), expected, url, settings, embedder, log)
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
                schema.lock(connection)
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
            schema.delete(connection, document.doc_id)
            schema.insert(connection, [(document, None, document.sha256)], chunks, vectors)

    def delete(self, doc_id: str) -> None:
        with self._writing() as connection:
            if not storable(doc_id) or not schema.delete(connection, doc_id):
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
        from rag.language.nlp import load_nlp

        settings, log = self.settings, self.log
        source = Path(settings.source_dir)
        hashes = corpus_hashes(source) if source.is_dir() else {}
        with self._writing() as connection:
            indexed = connection.execute("SELECT file, id FROM rag_documents").fetchall() if connection.execute(
                "SELECT to_regclass('rag_documents')").fetchone()[0] else []
            if fresh:
                connection.execute("DROP TABLE IF EXISTS " + ", ".join(schema.TABLES))
                schema.create(connection, self.expected)
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
                schema.delete(connection, doc_id)
            documents = []
            for name in changed:
                try:
                    documents.append(read_document(source / name, ids[source / name]))
                except RagError as exc:
                    log(f"skipped {name}: {exc}")
            chunks, vectors = chunk_and_embed(documents, load_nlp(settings.spacy_model), self.embedder, settings,
                                              progress=True)
            schema.insert(connection, [(d, Path(d.path).name, hashes[Path(d.path).name]) for d in documents], chunks, vectors)
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


