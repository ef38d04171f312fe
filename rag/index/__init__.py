"""The index (stage 4), held by a store chosen by `RAG_STORE`; `store.py` has the contract both implement. `faiss`
(files in the index folder, one machine: `folder.py` its writes, `store.py` the value, `vectors.py` FAISS flat/IVF,
`sparse.py` BM25, `persist.py` generations and the writer lock, `build.py` building and bringing in changed files)
or `postgres` (`postgres.py`: one database shared by replicas)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.registry import Registry

if TYPE_CHECKING:
    from rag.index.store import Index

STORES = Registry("store")


@STORES.register("faiss")
def _faiss(settings, embedder, rebuild: bool, sync: bool, log):
    from rag.index.build import open_store
    from rag.index.folder import FolderIndex

    # Always brings in the folder's changes: it owns the folder.
    return FolderIndex(settings, open_store(settings, embedder, rebuild, log), embedder, log)


@STORES.register("postgres")
def _postgres(settings, embedder, rebuild: bool, sync: bool, log):
    from rag.index.postgres import PostgresStore

    return PostgresStore.open(settings, embedder, rebuild=rebuild, sync=sync, log=log)


def open_index(settings, embedder, rebuild: bool = False, sync: bool = False, log=print) -> Index:
    """The store `settings.store` names, ready to search; `sync` also loads the corpus folder's changes."""
    return STORES.create(settings.store, settings, embedder, rebuild, sync, log)
