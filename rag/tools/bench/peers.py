"""The retrieval pipeline users would otherwise assemble: LangChain's FAISS vector store with
HuggingFace embeddings, same MiniLM model, same chunks. Needs the `bench` extra (pip install -e '.[bench]')."""

from __future__ import annotations

import warnings

from rag.index.faiss import vectors as vector_index
from rag.tools.bench.timing import each_ms, timed_ms
from rag.embed import resolve_model_path
from rag.errors import RagError
from rag.tools.evaluation.dataset import Example
from rag.tools.evaluation.metrics import recall_at_k
from rag.pipeline import Pipeline


def measure_langchain(pipeline: Pipeline, examples: list[Example], repeat: int, log) -> dict:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "langchain-community is being sunset"
            from langchain_community.vectorstores import FAISS
            from langchain_community.vectorstores.utils import DistanceStrategy
            from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError:
        raise RagError("the LangChain comparison needs the bench extra: pip install -e '.[bench]'") from None

    chunks = pipeline.store.chunks
    texts = [c.embedding_text() for c in chunks]
    answerable = [e for e in examples if e.answerable]
    questions = [e.question for e in answerable]

    log("peers: LangChain FAISS + HuggingFaceEmbeddings, building")
    embeddings = HuggingFaceEmbeddings(
        model_name=str(resolve_model_path(pipeline.settings.embed_model)),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 64},
    )
    metadatas = [{"chunk": c.id, "doc_id": c.doc_id} for c in chunks]

    def langchain_build():
        return FAISS.from_texts(texts, embeddings, metadatas=metadatas,
                                distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)

    def our_build():
        settings = pipeline.settings
        return vector_index.build(pipeline.embedder.encode(texts), settings.index_type, settings.ivf_nprobe)

    store = langchain_build()
    build_ms = {"langchain": timed_ms(langchain_build, repeat), "ours": timed_ms(our_build, repeat)}

    log("peers: retrieval latency and recall@5 on the eval questions")
    theirs = {q: [d.metadata for d in store.similarity_search(q, k=5)] for q in questions}
    ours_dense = {q: pipeline.search(q, 5, retrieval="dense") for q in questions}
    ours_hybrid = {q: pipeline.search(q, 5, retrieval="hybrid") for q in questions}
    recall = {
        "langchain": _recall(answerable, {q: [m["doc_id"] for m in r] for q, r in theirs.items()}),
        "ours_dense": _recall(answerable, {q: [h.chunk.doc_id for h in r] for q, r in ours_dense.items()}),
        "ours_hybrid": _recall(answerable, {q: [h.chunk.doc_id for h in r] for q, r in ours_hybrid.items()}),
    }
    same_top5 = sum([m["chunk"] for m in theirs[q]] == [h.chunk.id for h in ours_dense[q]] for q in questions)
    latency = {
        "langchain": each_ms(lambda q: store.similarity_search(q, k=5), questions),
        "ours_dense": each_ms(lambda q: pipeline.search(q, 5, retrieval="dense"), questions),
        "ours_hybrid": each_ms(lambda q: pipeline.search(q, 5, retrieval="hybrid"), questions),
    }
    return {
        "chunks": len(texts),
        "questions": len(questions),
        "build_ms": build_ms | {
            "ratio_langchain_to_ours_p50": round(build_ms["langchain"]["p50"] / build_ms["ours"]["p50"], 2)},
        "retrieval_ms": latency | {
            "ratio_langchain_to_ours_dense_p50": round(latency["langchain"]["p50"] / latency["ours_dense"]["p50"], 2)},
        "recall_at_5": recall,
        "same_top5_chunks_as_ours_dense": f"{same_top5}/{len(questions)}",
    }


def _recall(examples: list[Example], retrieved: dict[str, list[str]]) -> float:
    return round(sum(recall_at_k(retrieved[e.question], e.doc_ids, 5) for e in examples) / len(examples), 4)
