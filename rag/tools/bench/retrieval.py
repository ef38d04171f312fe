"""Vector search latency from 1k to 1M vectors, exact (flat) and approximate (IVF), with IVF's recall@10.

The vectors are drawn around real chunk embeddings (a real embedding plus Gaussian noise, renormalised),
so they cluster like a real corpus does; uniform noise would make every index look better than it is.
"""

from __future__ import annotations

import time

import numpy as np

from rag.index.faiss import vectors as vector_index
from rag.tools.bench.timing import each_ms

NOISE = 0.5  # length of the noise added to a unit-length centre: cosine to its centre is about 0.9
BLOCK = 100_000


def synthetic_vectors(centres: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dimension = centres.shape[1]
    vectors = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, BLOCK):  # in blocks, so a million vectors never need a float64 copy
        n = min(BLOCK, count - start)
        block = centres[rng.integers(0, len(centres), n)] + rng.normal(0, NOISE / np.sqrt(dimension), (n, dimension))
        vectors[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def recall_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(t) & set(f)) / len(t) for t, f in zip(truth, found)]))


def measure_retrieval(centres: np.ndarray, queries: np.ndarray, sizes: list[int], nprobe: int, log) -> dict:
    results = {"nprobe": nprobe, "auto_ivf_from": vector_index.AUTO_IVF_FROM, "queries": len(queries), "sizes": {}}
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    for size in sizes:
        log(f"retrieval: {size:,} vectors")
        vectors = synthetic_vectors(centres, size)
        row = {"auto_picks": vector_index.resolve("auto", size)}
        for kind in ("flat", "ivf"):
            started = time.perf_counter()
            index = vector_index.build(vectors, kind, nprobe)
            build_s = time.perf_counter() - started
            latency = each_ms(lambda q: index.search(q[None], 10), list(queries))
            _, found = index.search(queries, 10)
            row[kind] = {"build_s": round(build_s, 2), "latency_ms": latency, "found": found}
            if kind == "ivf":
                row[kind]["lists"] = index.nlist
        row["ivf"]["recall_at_10"] = round(recall_at_10(row["flat"].pop("found"), row["ivf"].pop("found")), 4)
        results["sizes"][str(size)] = row
        del vectors
    return results
