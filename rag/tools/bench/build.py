"""Index build throughput (chunks/s) next to the embedder's own throughput on the same texts (the ceiling)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from rag.index.faiss import vectors as vector_index
from rag.tools.bench.timing import percentiles, timed_ms
from rag.embed import Embedder, load_embedder
from rag.index.faiss.persist import save
from rag.index.faiss.store import Store
from rag.index.faiss.build import build_store
from rag.settings import Settings


def synthetic_chunks(store: Store, count: int, seed: int = 0) -> list[str]:
    """The seeds' sentences recombined into `count` chunks: real words and lengths, any corpus size."""
    rng = random.Random(seed)
    sentences = sorted({s for chunk in store.chunks for s in chunk.sentence_texts()})
    titles = sorted({chunk.title for chunk in store.chunks})
    sizes = [len(chunk.sentences) for chunk in store.chunks]
    return [f"{rng.choice(titles)}\n" + " ".join(rng.sample(sentences, rng.choice(sizes))) for _ in range(count)]


def per_second(count: int, timing: dict) -> dict:
    return {"chunks_per_s_p50": round(count / (timing["p50"] / 1000), 1),
            "chunks_per_s_at_p95_time": round(count / (timing["p95"] / 1000), 1)} | {"ms": timing}


def embed_and_index(embedder: Embedder, texts: list[str], settings: Settings, folder: Path) -> None:
    """What `rag index` does after chunking: embed, build the vector index, write it to disk."""
    vectors = embedder.encode(texts)
    index = vector_index.build(vectors, settings.index_type, settings.ivf_nprobe)
    save(Store(manifest={}, vectors=index, chunks=[], documents={}), folder)


def measure_build(settings: Settings, store: Store, synthetic: int, repeat: int, log) -> dict:
    """The seeds are timed whole, `repeat` times. A large synthetic corpus would take many minutes per run
    on 2 cores, so it is timed once, in `repeat` equal slices, with the embedder alone and our
    embed-index-save path interleaved slice by slice (drift in machine speed hits both alike)."""
    embedder = load_embedder(settings.embedder, settings.embed_model, settings.cache_dir)
    seeds = [c.embedding_text() for c in store.chunks]
    results = {"embedder": settings.embedder}
    with tempfile.TemporaryDirectory(prefix="rag-bench-build-") as workdir:
        log(f"build throughput: seeds ({len(seeds)} chunks)")
        raw = timed_ms(lambda: embedder.encode(seeds), repeat)
        ours = timed_ms(lambda: embed_and_index(embedder, seeds, settings, Path(workdir) / "seeds"), repeat)
        results["seeds"] = compare(len(seeds), raw, ours)
        log("build throughput: full build of the seeds (read, clean, chunk with spaCy, embed, index)")
        results["seeds"]["full_build"] = per_second(len(seeds), timed_ms(
            lambda: build_store(settings, embedder, progress=False), repeat))
        if settings.embedder != "sentence-transformers":
            reference = load_embedder("sentence-transformers", settings.embed_model, settings.cache_dir)
            results["seeds"]["sentence_transformers_raw"] = per_second(len(seeds), timed_ms(
                lambda: reference.encode(seeds), repeat))
        if synthetic:
            texts = synthetic_chunks(store, synthetic)
            size = max(1, synthetic // repeat)
            raw_runs, our_runs = [], []
            for n, start in enumerate(range(0, size * repeat, size), start=1):
                log(f"build throughput: synthetic corpus, slice {n} of {repeat} ({size} chunks)")
                piece = texts[start : start + size]
                raw_runs.append(timed_ms(lambda: embedder.encode(piece), 1, warmup=0)["p50"])
                our_runs.append(timed_ms(lambda: embed_and_index(embedder, piece, settings, Path(workdir) / f"s{n}"),
                                         1, warmup=0)["p50"])
            results[f"synthetic_{synthetic}"] = compare(size, percentiles(raw_runs), percentiles(our_runs)) | {
                "slices": repeat}
    return results


def compare(count: int, raw: dict, ours: dict) -> dict:
    return {"chunks": count, "embedder_raw": per_second(count, raw), "embed_index_save": per_second(count, ours),
            "ratio_to_raw": round(raw["p50"] / ours["p50"], 3)}
