"""What both stores index: documents chunked (stage 2) and embedded (stage 3), and the settings every chunk
depends on, so either store can tell when its index must be rebuilt."""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from rag.progress import tracked

from rag.chunk import chunk_document
from rag.contracts import Chunk
from rag.embed import Embedder
from rag.ingest.load import Document
from rag.settings import Settings

EMBED_BATCH = 16  # chunks handed to the embedder at a time while the next ones are being chunked
CLEANER_VERSION = 9  # bump when cleaning or annotation changes what gets indexed (8: front matter, PDF paragraphs;
# 9: table rows as sentences with their headers, a character floor on chunk sizes)


def log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def chunk_settings(settings: Settings, embedder: Embedder) -> dict:
    """What every indexed chunk depends on, in either store; a difference means the index must be rebuilt."""
    return {"cleaner": CLEANER_VERSION, "embedder": settings.embedder, "embed_model": settings.embed_model,
            "dimension": embedder.dimension, "chunk_tokens": settings.chunk_tokens,
            "chunk_overlap": settings.chunk_overlap, "spacy_model": settings.spacy_model}


def chunk(document: Document, nlp, embedder: Embedder, settings: Settings) -> list[Chunk]:
    return chunk_document(document, nlp, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap,
                          entities=settings.index_entities)


def chunk_and_embed(
    documents: list[Document], nlp, embedder: Embedder, settings: Settings, progress: bool
) -> tuple[list[Chunk], np.ndarray]:
    """Chunk on this thread while a worker embeds the chunks already made: spaCy's parse and the
    embedder overlap instead of taking turns (a full build of the seeds about 5% faster on 2 cores)."""
    chunks: list[Chunk] = []
    batches: list[Future] = []
    pending = 0  # chunks not yet handed to the embedder
    embedding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
    try:
        for document in tracked(documents, "Indexing", "doc", progress):
            chunks += chunk(document, nlp, embedder, settings)
            if len(chunks) - pending >= EMBED_BATCH or document is documents[-1]:
                texts = [c.embedding_text() for c in chunks[pending:]]
                batches.append(embedding.submit(embedder.encode, texts))
                pending = len(chunks)
        vectors = [batch.result() for batch in batches]
    finally:  # on Ctrl-C, drop the queued batches instead of embedding them all before stopping
        embedding.shutdown(cancel_futures=True)
    return chunks, np.vstack(vectors) if vectors else np.zeros((0, embedder.dimension), dtype=np.float32)
