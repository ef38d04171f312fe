"""The index (stage 4), held by a store chosen by `RAG_STORE`: `faiss` (faiss/, files in the index folder, one
machine) or `postgres` (postgres/, one database shared by replicas). contract.py has the contract both implement;
prepare.py, sparse.py and terms.py are what both share. A new store implements the contract and registers here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.registry import Registry

if TYPE_CHECKING:
    from rag.index.contract import Index

STORES = Registry("store")


@STORES.register("faiss")
def _faiss(settings, embedder, rebuild: bool, sync: bool, log):
    from rag.index.faiss.build import open_store, remembered_source
    from rag.index.faiss.folder import FolderIndex
    from rag.ingest.load import sample_corpus

    settings = remembered_source(settings, rebuild)
    sample_corpus(settings, log)
    # Always brings in the folder's changes: it owns the folder.
    return FolderIndex(settings, open_store(settings, embedder, rebuild, log), embedder, log)


@STORES.register("postgres")
def _postgres(settings, embedder, rebuild: bool, sync: bool, log):
    from rag.index.postgres.store import PostgresStore
    from rag.ingest.load import sample_corpus

    sample_corpus(settings, log)
    return PostgresStore.open(settings, embedder, rebuild=rebuild, sync=sync, log=log)


def open_index(settings, embedder, rebuild: bool = False, sync: bool = False, log=print) -> Index:
    """The store `settings.store` names, ready to search.

    Args:
        settings: the store and where it keeps the index. embedder: embeds what is (re)indexed.
        rebuild: index the whole corpus folder again. sync: also bring in the folder's changes (the faiss
            store always does: it owns the folder). log: receives one line per thing worth saying.

    Returns:
        Both halves of the store contract (rag/index/contract.py).
    """
    return STORES.create(settings.store, settings, embedder, rebuild, sync, log)
