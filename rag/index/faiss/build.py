"""The `faiss` store's index of the corpus folder: build it, tell when it is stale, and bring in changed files
one by one."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from rag.progress import tracked

from rag.atomic import remove_leftovers
from rag.embed import Embedder
from rag.errors import IndexCorrupt, IndexMissing, RagError
from rag.index.faiss import vectors as vector_index
from rag.index.faiss.persist import FORMAT_VERSION, load, recorded_source, save_locked, writer_lock
from rag.index.faiss.store import Store
from rag.index.prepare import chunk, chunk_and_embed, chunk_settings, log_to_stderr
from rag.ingest.load import corpus_changes, corpus_hashes, document_ids, load_corpus, read_document
from rag.language.nlp import load_nlp
from rag.settings import Settings


def index_settings(settings: Settings, embedder: Embedder) -> dict:
    """Everything that changes what a FAISS index folder holds: the chunks, its file format and its vector index."""
    return {"format": FORMAT_VERSION, **chunk_settings(settings, embedder), "index_type": settings.index_type}


def build_store(settings: Settings, embedder: Embedder, progress: bool = True,
                log: Callable[[str], None] = log_to_stderr, known: Mapping[str, str] | None = None) -> Store:
    """A new index of the whole corpus folder; `known` (file name -> id) keeps an earlier index's ids."""
    nlp = load_nlp(settings.spacy_model)
    documents = load_corpus(settings.source_dir, log, known)  # 1. load
    chunks, vectors = chunk_and_embed(documents, nlp, embedder, settings, progress)  # 2. chunk, 3. embed
    index = vector_index.build(vectors, settings.index_type, settings.ivf_nprobe)  # 4. index
    hashes = corpus_hashes(settings.source_dir)  # before reading: a file edited meanwhile is found stale next time
    manifest = index_settings(settings, embedder) | {
        "corpus": hashes,
        # Remembered, relative to the index folder (the two may move together): later commands may name the index only
        "source_dir": os.path.relpath(settings.source_dir.resolve(), settings.index_dir.resolve()),
        "documents": len(documents),
        "chunks": len(chunks),
        "vector_index": vector_index.kind_of(index),
    }
    return Store(manifest=manifest, vectors=index, chunks=chunks, documents={d.doc_id: d for d in documents})


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
    current = corpus_hashes(settings.source_dir)
    changed, removed = corpus_changes(store.manifest["corpus"], current)
    if not changed and not removed:
        return None
    by_file = file_ids(store)
    ids = document_ids([settings.source_dir / name for name in current], by_file)
    for name in removed + changed:
        if name in by_file and (name in removed or by_file[name] != ids[settings.source_dir / name]):
            store = _without(store, by_file[name])
    for name in tracked(changed, "Indexing", "doc", len(changed) >= 2):
        path = settings.source_dir / name
        try:
            document = read_document(path, ids[path])
        except RagError as exc:
            log(f"skipped {name}: {exc}")
            store = _without(store, ids[path])
            continue
        chunks = chunk(document, nlp, embedder, settings)
        store = store.with_document(document, chunks, embedder.encode([c.embedding_text() for c in chunks]))
    store = Store(dict(store.manifest), store.vectors, store.chunks, store.documents)
    store.manifest |= {"corpus": current, "documents": len(store.documents), "chunks": len(store.chunks)}
    log(f"{settings.source_dir}: {len(changed)} file(s) added or changed, {len(removed)} removed; "
        f"{len(store.documents)} documents as {len(store.chunks)} chunks")
    return store


def file_ids(store: Store) -> dict[str, str]:
    """File name -> document id, for every indexed document read from a file."""
    return {os.path.basename(d.path): doc_id for doc_id, d in store.documents.items() if d.path}


def _without(store: Store, doc_id: str) -> Store:
    """The store minus one document, if it holds it; an index always keeps at least one."""
    return store.without_document(doc_id) if doc_id in store.documents and len(store.documents) > 1 else store


def remembered_source(settings: Settings, rebuild: bool) -> Settings:
    """An index remembers the corpus folder it was built from: a command that names only the index uses that
    folder, and one that names another folder is refused unless it rebuilds (which replaces the contents)."""
    recorded = recorded_source(settings.index_dir)
    if recorded is None or not recorded.is_dir() or recorded == settings.source_dir.resolve():
        return settings  # an index from before it remembered, or whose folder is gone: the folder given is used
    if "source_dir" not in settings.model_fields_set:  # the default folder, not the user's choice
        return settings.model_copy(update={"source_dir": recorded})
    if rebuild:
        return settings
    raise RagError(f"the index in {settings.index_dir} was built from {recorded}, not {settings.source_dir}: to "
                   f"replace its contents, run: rag index --rebuild --source {settings.source_dir} --index "
                   f"{settings.index_dir}; or choose another --index")


def open_store(
    settings: Settings, embedder: Embedder, rebuild: bool = False, log: Callable[[str], None] = log_to_stderr
) -> Store:
    """Load the index, bringing in changed files one by one, or (re)build it when missing, damaged, built with
    other settings, or asked to. Holds the index folder's writer lock, so a running server's writes wait."""
    with writer_lock(settings.index_dir):
        for folder in (settings.source_dir, settings.index_dir):
            for name in remove_leftovers(folder):
                log(f"removed {folder / name}, left by an interrupted write")
        store, reason = None, "rebuild requested" if rebuild else None
        try:
            store = load(settings.index_dir)
        except IndexMissing:
            reason = reason or f"no index yet in {settings.index_dir}/"
        except IndexCorrupt as exc:
            reason = reason or str(exc).split("; rebuild")[0]
        if reason is None:
            reason = stale_reason(store, settings, embedder)
            if reason is None:
                update = refreshed(store, settings, embedder, load_nlp(settings.spacy_model), log)
                if update is not None:
                    save_locked(update, settings.index_dir)
                return update or store
            reason = f"index is stale ({reason})"
        known = file_ids(store) if store is not None else None  # a rebuild renames no document
        if not settings.source_dir.is_dir():  # say so before announcing a build that cannot start
            raise RagError(f"corpus folder not found: {settings.source_dir}")
        log(f"{reason}; building it from {settings.source_dir}/ …")
        store = build_store(settings, embedder, log=log, known=known)
        save_locked(store, settings.index_dir)
    log(f"indexed {store.manifest['documents']} documents as {store.manifest['chunks']} chunks in {settings.index_dir}")
    return store


