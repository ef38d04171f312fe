"""Offline retrieval-augmented question answering over a folder of news articles.

The Python API (the same pipeline as the `rag` command and the HTTP service):

    from rag import Settings, open_pipeline

    pipeline = open_pipeline(Settings(source_dir="seeds"))
    result = pipeline.ask("How much national budget did Gwangju secure this year?")

Names are imported on first use, so `import rag` (and every `rag` command) stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Pipeline", "Result", "Citation", "Hit", "Settings", "RagError", "open_pipeline"]

_HOMES = {"Pipeline": "rag.pipeline", "Result": "rag.contracts", "Citation": "rag.contracts", "Hit": "rag.contracts",
          "Settings": "rag.settings", "RagError": "rag.errors"}


def open_pipeline(settings=None, rebuild: bool = False):
    """Load (or build) the index the settings name, with its models.

    Args:
        settings: a Settings; None reads RAG_* variables, then rag.toml, then the defaults.
        rebuild: rebuild the index from the corpus folder even when it is up to date.

    Returns:
        A Pipeline: ask, search, add_document, remove_document, sync.
    """
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    return Pipeline.open(settings or Settings(), rebuild=rebuild, log=lambda message: None)


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
