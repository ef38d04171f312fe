"""Chunking and embedding for either store (rag/index/prepare.py)."""

import time

import numpy as np
import pytest

from rag.index import prepare
from rag.ingest.load import load_corpus
from rag.language.nlp import load_nlp
from rag.settings import Settings


def test_an_interrupted_build_drops_the_queued_embedding_batches(corpus, embedder, monkeypatch):
    settings = Settings(source_dir=corpus)
    articles = load_corpus(corpus, lambda message: None)
    nlp = load_nlp(settings.spacy_model)
    chunked = {d.doc_id: prepare.chunk(d, nlp, embedder, settings) for d in articles}
    documents = articles * 20
    assert sum(len(chunked[d.doc_id]) for d in documents) >= 10 * prepare.EMBED_BATCH
    embedded: list[int] = []

    def slow_encode(texts):
        time.sleep(0.2)
        embedded.append(len(texts))
        return np.zeros((len(texts), embedder.dimension), dtype=np.float32)

    def chunk_instantly(document, nlp, embedder, settings, seen=[]):
        seen.append(document)
        if len(seen) == len(documents):  # Ctrl-C with many batches still queued
            raise KeyboardInterrupt
        return chunked[document.doc_id]

    monkeypatch.setattr(prepare, "chunk", chunk_instantly)
    monkeypatch.setattr(embedder, "encode", slow_encode)
    with pytest.raises(KeyboardInterrupt):
        prepare.chunk_and_embed(documents, nlp, embedder, settings, progress=False)
    assert len(embedded) <= 1, f"{len(embedded)} batches embedded after the interrupt"


def test_overlapped_chunking_and_embedding_keeps_every_chunk_with_its_vector(pipeline, embedder, nlp):
    documents = load_corpus(pipeline.settings.source_dir)
    chunks, vectors = prepare.chunk_and_embed(documents, nlp, embedder, pipeline.settings, progress=False)
    assert [c.id for c in chunks] == [c.id for c in pipeline.store.chunks]
    assert np.allclose(vectors, embedder.encode([c.embedding_text() for c in chunks]), atol=1e-5)
