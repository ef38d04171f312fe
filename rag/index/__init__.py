"""The index (stage 4), held by a store chosen by `RAG_STORE`: `faiss` (files in the index folder, one machine:
`store.py` the value, `vectors.py` FAISS flat/IVF, `sparse.py` BM25, `persist.py` generations and the writer lock,
`build.py` building and bringing in changed files) or `postgres` (`postgres.py`: one database shared by replicas)."""

from __future__ import annotations

from rag.registry import Registry

STORES = Registry("store")


@STORES.register("faiss")
def _faiss(settings, embedder, rebuild: bool, sync: bool, log):
    from rag.index.build import open_store

    return open_store(settings, embedder, rebuild, log)  # always brings in the folder's changes: it owns the folder


@STORES.register("postgres")
def _postgres(settings, embedder, rebuild: bool, sync: bool, log):
    from rag.index.postgres import PostgresStore

    return PostgresStore.open(settings, embedder, rebuild=rebuild, sync=sync, log=log)


def open_index(settings, embedder, rebuild: bool = False, sync: bool = False, log=print):
    """The store `settings.store` names, ready to search; `sync` also loads the corpus folder's changes."""
    return STORES.create(settings.store, settings, embedder, rebuild, sync, log)
