"""The whole pipeline, top-down: load → chunk → embed → index → retrieve → answer → cite."""

from __future__ import annotations

import hashlib
import os

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from tqdm import tqdm

from rag import vector_index
from rag.atomic import write_bytes, write_text
from rag.answer import Answerer, make_answerer
from rag.chunk import chunk_document
from rag.contracts import Chunk, Result
from rag.cite import cite
from rag.embed import Embedder, load_embedder
from rag.errors import RagError
from rag.inputs import validate_doc_id, validate_k, validate_question
from rag.index import FORMAT_VERSION, IndexCorrupt, IndexMissing, Store, current_generation, writer_lock
from rag.load import Document, corpus_hashes, document_from_text, document_ids, load_corpus, read_document
from rag.nlp import load_nlp
from rag.retrieve import Hit, Retriever, make_retriever
from rag.settings import Settings

EMBED_BATCH = 16  # chunks handed to the embedder at a time while the next ones are being chunked
CLEANER_VERSION = 6  # bump when cleaning or annotation changes what gets indexed


class NoSuchDocument(RagError):
    """The id names no indexed document."""


class LastDocument(RagError):
    """Removing it would leave nothing to index."""


def log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def index_settings(settings: Settings, embedder: Embedder) -> dict:
    """Everything that changes what an index contains; a difference means the index is stale."""
    return {
        "format": FORMAT_VERSION,
        "cleaner": CLEANER_VERSION,
        "embedder": settings.embedder,
        "embed_model": settings.embed_model,
        "dimension": embedder.dimension,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "spacy_model": settings.spacy_model,
        "index_type": settings.index_type,
    }


def build_store(settings: Settings, embedder: Embedder, progress: bool = True,
                log: Callable[[str], None] = log_to_stderr) -> Store:
    nlp = load_nlp(settings.spacy_model)
    documents = load_corpus(settings.source_dir, log)  # 1. load
    chunks, vectors = chunk_and_embed(documents, nlp, embedder, settings, progress)  # 2. chunk, 3. embed
    index = vector_index.build(vectors, settings.index_type, settings.ivf_nprobe)  # 4. index
    hashes = corpus_hashes(settings.source_dir)  # before reading: a file edited meanwhile is found stale next time
    manifest = index_settings(settings, embedder) | {
        "corpus": hashes,
        "source_dir": str(settings.source_dir),
        "documents": len(documents),
        "chunks": len(chunks),
        "vector_index": vector_index.kind_of(index),
    }
    return Store(manifest=manifest, vectors=index, chunks=chunks, documents={d.doc_id: d for d in documents})


def chunk_and_embed(
    documents: list[Document], nlp, embedder: Embedder, settings: Settings, progress: bool
) -> tuple[list[Chunk], np.ndarray]:
    """Chunk on this thread while a worker embeds the chunks already made: spaCy's parse and the
    embedder overlap instead of taking turns (a full build of the seeds about 5% faster on 2 cores)."""
    chunks: list[Chunk] = []
    batches: list[Future] = []
    pending = 0  # chunks not yet handed to the embedder
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as embedding:
        for document in tqdm(documents, desc="Indexing", unit="doc", disable=not progress):
            chunks += chunk_document(
                document, nlp, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap
            )
            if len(chunks) - pending >= EMBED_BATCH or document is documents[-1]:
                texts = [c.embedding_text() for c in chunks[pending:]]
                batches.append(embedding.submit(embedder.encode, texts))
                pending = len(chunks)
        vectors = [batch.result() for batch in batches]
    return chunks, np.vstack(vectors) if vectors else np.zeros((0, embedder.dimension), dtype=np.float32)


def stale_reason(store: Store, settings: Settings, embedder: Embedder) -> str | None:
    """Why the index must be rebuilt whole (settings that change every chunk); None when file-by-file will do."""
    expected = index_settings(settings, embedder)
    changed = [key for key, value in expected.items() if store.manifest.get(key) != value]
    if changed:
        return "settings changed: " + ", ".join(changed)
    if "corpus" not in store.manifest:
        return "it predates per-file hashes"
    return None


def refreshed(store: Store, settings: Settings, embedder: Embedder, nlp, log: Callable[[str], None]) -> Store | None:
    """The store with every file added, edited or removed since it was saved brought in, embedding only those;
    None when the folder matches it. Files that cannot be indexed are skipped and logged, as in a full build."""
    known = store.manifest["corpus"]
    current = corpus_hashes(settings.source_dir)
    changed = sorted(name for name, digest in current.items() if known.get(name) != digest)
    removed = sorted(set(known) - set(current))
    if not changed and not removed:
        return None
    by_file = {os.path.basename(d.path): doc_id for doc_id, d in store.documents.items() if d.path}
    ids = document_ids([settings.source_dir / name for name in current])
    for name in removed + changed:
        if name in by_file and (name in removed or by_file[name] != ids[settings.source_dir / name]):
            store = store.without_document(by_file[name]) if len(store.documents) > 1 else store
    for name in changed:
        path = settings.source_dir / name
        try:
            document = read_document(path, ids[path])
        except RagError as exc:
            log(f"skipped {name}: {exc}")
            if ids[path] in store.documents and len(store.documents) > 1:
                store = store.without_document(ids[path])
            continue
        chunks = chunk_document(document, nlp, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap)
        store = store.with_document(document, chunks, embedder.encode([c.embedding_text() for c in chunks]))
    store = Store(dict(store.manifest), store.vectors, store.chunks, store.documents)
    store.manifest |= {"corpus": current, "documents": len(store.documents), "chunks": len(store.chunks)}
    log(f"{settings.source_dir}: {len(changed)} file(s) added or changed, {len(removed)} removed; "
        f"{len(store.documents)} documents as {len(store.chunks)} chunks")
    return store


def open_store(
    settings: Settings, embedder: Embedder, rebuild: bool = False, log: Callable[[str], None] = log_to_stderr
) -> Store:
    """Load the index, bringing in changed files one by one, or (re)build it when missing, damaged, built with
    other settings, or asked to. Holds the index folder's writer lock, so a running server's writes wait."""
    with writer_lock(settings.index_dir):
        reason = "rebuild requested" if rebuild else None
        if reason is None:
            try:
                store = Store.load(settings.index_dir)
                reason = stale_reason(store, settings, embedder)
                if reason is None:
                    update = refreshed(store, settings, embedder, load_nlp(settings.spacy_model), log)
                    if update is not None:
                        update.save_locked(settings.index_dir)
                    return update or store
                reason = f"index is stale ({reason})"
            except IndexMissing:
                reason = f"no index in {settings.index_dir} yet"
            except IndexCorrupt as exc:
                reason = str(exc).split("; rebuild")[0]
        log(f"{reason}; building it from {settings.source_dir} …")
        store = build_store(settings, embedder, log=log)
        store.save_locked(settings.index_dir)
    log(f"indexed {store.manifest['documents']} documents as {store.manifest['chunks']} chunks in {settings.index_dir}")
    return store


class Pipeline:
    def __init__(self, settings: Settings, store: Store, embedder: Embedder, log: Callable[[str], None] = log_to_stderr):
        self.settings = settings
        self.embedder = embedder
        self.nlp = load_nlp(settings.spacy_model)
        self.log = log
        self.snapshot = Snapshot(store, self)
        self._write_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, rebuild: bool = False, log: Callable[[str], None] = log_to_stderr) -> "Pipeline":
        embedder = load_embedder(settings.embedder, settings.embed_model, settings.cache_dir)
        return cls(settings, open_store(settings, embedder, rebuild, log), embedder, log)

    @property
    def store(self) -> Store:
        return self.snapshot.store

    def retriever(self, mode: str | None = None) -> Retriever:
        return self.snapshot.retriever(mode)

    def answerer(self, name: str | None = None) -> Answerer:
        return self.snapshot.answerer(name)

    # --- changing the corpus while serving -----------------------------------------------------

    def add_document(self, doc_id: str, text: str) -> Document:
        """Add or replace one document: the file first, then a new index generation, then the live swap.
        A failure while saving puts the file back; a crash leaves the file newer than the index, and the
        next start or sync brings it in."""
        validate_doc_id(doc_id)
        document = document_from_text(doc_id, text)
        chunks = chunk_document(
            document, self.nlp, self.embedder.count_tokens, self.settings.chunk_tokens, self.settings.chunk_overlap
        )
        vectors = self.embedder.encode([c.embedding_text() for c in chunks])

        def change(store: Store) -> Store:
            existing = store.documents.get(doc_id)
            name = os.path.basename(existing.path) if existing and existing.path else f"{doc_id}.txt"
            path = self.settings.source_dir / name  # replacing notes.md rewrites notes.md, not a second notes.txt
            document.path = str(path)
            previous = path.read_bytes() if path.exists() else None
            write_text(path, text)
            try:
                updated = store.with_document(document, chunks, vectors)
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                updated.manifest["corpus"] = store.manifest["corpus"] | {name: digest}
                self._save(updated)
            except BaseException:  # e.g. a full disk: put the corpus back as the served index knows it
                if previous is None:
                    path.unlink(missing_ok=True)
                else:
                    write_bytes(path, previous)
                raise
            return updated

        self._write(change)
        return document

    def remove_document(self, doc_id: str) -> None:
        def change(store: Store) -> Store:
            document = store.documents.get(doc_id)
            if document is None:
                raise NoSuchDocument(f"no document with id {doc_id!r}")
            if len(store.documents) == 1:
                raise LastDocument(f"{doc_id!r} is the last document; an index needs at least one")
            name = os.path.basename(document.path or f"{doc_id}.txt")
            (self.settings.source_dir / name).unlink(missing_ok=True)
            updated = store.without_document(doc_id)
            updated.manifest["corpus"] = {k: v for k, v in store.manifest["corpus"].items() if k != name}
            self._save(updated)
            return updated

        self._write(change)

    def sync(self) -> bool:
        """Bring in files added, edited or removed in the corpus folder by anyone; True when anything changed."""
        def change(store: Store) -> Store | None:
            updated = refreshed(store, self.settings, self.embedder, self.nlp, self.log)
            if updated is not None:
                self._save(updated)
            return updated

        return self._write(change)

    def _write(self, change: Callable[[Store], Store | None]) -> bool:
        """One writer at a time, across threads and processes, each starting from the newest saved index (another
        process sharing the folder may have saved since), so no acknowledged write is lost; then one swap."""
        with self._write_lock, writer_lock(self.settings.index_dir):
            store = self.store
            if current_generation(self.settings.index_dir) not in (None, store.generation):
                store = Store.load(self.settings.index_dir)
            updated = change(store)
            if updated is not None or store is not self.store:
                # Built before the swap, so the next question does not wait; questions in flight keep theirs.
                self.snapshot = self.snapshot.successor(updated or store)
            return updated is not None

    def _save(self, store: Store) -> None:
        store.manifest |= {"documents": len(store.documents), "chunks": len(store.chunks)}
        store.save_locked(self.settings.index_dir)

    def search(self, query: str, k: int | None = None, retrieval: str | None = None) -> list[Hit]:
        query = validate_question(query)
        return self.retriever(retrieval).search(query, validate_k(k or self.settings.k))

    def ask(
        self, question: str, k: int | None = None, answerer: str | None = None, retrieval: str | None = None,
        depth: int = 0,
    ) -> Result:
        """Answer from the top k passages of one snapshot. `depth` retrieves more, for scoring retrieval,
        and lists their documents in `result.retrieved`; the answer still reads only the top k."""
        question = validate_question(question)
        k = validate_k(k or self.settings.k)
        snapshot = self.snapshot  # taken once: a write during this question cannot mix two index versions
        reader = snapshot.answerer(answerer)
        started = time.perf_counter()
        hits = snapshot.retriever(retrieval).search(question, max(k, depth))  # 5. retrieve
        retrieved = time.perf_counter()
        draft = reader.answer(question, hits[:k])  # 6. answer
        result = cite(question, draft, hits[:k])  # 7. cite
        finished = time.perf_counter()
        result.retrieved = [hit.chunk.doc_id for hit in hits]
        result.timings_ms = {"retrieve": round((retrieved - started) * 1000, 2),
                             "answer": round((finished - retrieved) * 1000, 2),
                             "total": round((finished - started) * 1000, 2)}
        return result


class Snapshot:
    """One version of the index with the retrievers and answerers built on it, made when first asked for."""

    def __init__(self, store: Store, pipeline: Pipeline):
        vector_index.set_nprobe(store.vectors, pipeline.settings.ivf_nprobe)
        self.store = store
        self.pipeline = pipeline
        self._retrievers: dict[str, Retriever] = {}
        self._answerers: dict[str, Answerer] = {}

    def retriever(self, mode: str | None = None) -> Retriever:
        settings = self.pipeline.settings
        mode = mode or settings.retrieval
        if mode not in self._retrievers:
            self._retrievers[mode] = make_retriever(mode, self.store, self.pipeline.embedder, settings.rrf_k)
        return self._retrievers[mode]

    def answerer(self, name: str | None = None) -> Answerer:
        name = name or self.pipeline.settings.answerer
        if name not in self._answerers:
            self._answerers[name] = make_answerer(name, self.pipeline.settings, self.store, self.pipeline.nlp)
        return self._answerers[name]

    def successor(self, store: Store) -> Snapshot:
        following = Snapshot(store, self.pipeline)
        for mode in list(self._retrievers):
            following.retriever(mode)
        for name in list(self._answerers):
            following.answerer(name)
        return following


__all__ = ["Pipeline", "build_store", "open_store"]
