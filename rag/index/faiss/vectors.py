"""The FAISS index inside a Store, chosen by a setting: `flat` (exact), `ivf` (approximate), or `auto`.

Exact search on normalised vectors is already fast below tens of thousands of chunks (well under 2 ms at
10k on 2 cores), so `auto` picks it there, and an inverted-file index (IVF) above, where exact search
grows linearly. IVF keeps its training when documents are added or removed; a full rebuild retrains it.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

INDEX_TYPES = ("auto", "flat", "ivf")
AUTO_IVF_FROM = 50_000  # vectors; measured by `rag bench` (README, Performance)
TRAINING_PER_LIST = 64  # k-means sample per list: enough for stable centroids, a fraction of a big corpus


def resolve(kind: str, count: int) -> str:
    if kind == "auto":
        return "ivf" if count >= AUTO_IVF_FROM else "flat"
    return kind


def ivf_lists(count: int) -> int:
    """About sqrt(n) lists: each holds ~sqrt(n) vectors, so a probe scans a small, balanced share."""
    return max(1, min(65_536, int(math.sqrt(count)), count // TRAINING_PER_LIST or 1))


def build(vectors: np.ndarray, kind: str, nprobe: int, seed: int = 0) -> faiss.Index:
    dimension = vectors.shape[1]
    if resolve(kind, len(vectors)) == "flat":
        index = faiss.IndexFlatIP(dimension)
    else:
        lists = ivf_lists(len(vectors))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(len(vectors), min(len(vectors), lists * TRAINING_PER_LIST),
                                                    replace=False)
        index.cp.min_points_per_centroid = 1  # a small sample is a choice here, not a mistake to warn about
        index.train(vectors[np.sort(sample)])
    set_nprobe(index, nprobe)
    index.add(vectors)
    return prepared(index)


def prepared(index: faiss.Index) -> faiss.Index:
    """IVF needs a direct map to hand vectors back (for removing a document without re-embedding the rest)."""
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()
    return index


def set_nprobe(index: faiss.Index, nprobe: int) -> None:
    """A search-time setting: changing it needs no rebuild."""
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = min(nprobe, index.nlist)


def kind_of(index: faiss.Index) -> str:
    return "ivf" if isinstance(index, faiss.IndexIVF) else "flat"


def all_vectors(index: faiss.Index) -> np.ndarray:
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), dtype=np.float32)


def refilled(index: faiss.Index, vectors: np.ndarray) -> faiss.Index:
    """The same kind of index, with the same training, holding only `vectors`."""
    fresh = faiss.clone_index(index)
    fresh.reset()
    if len(vectors):
        fresh.add(vectors)
    return prepared(fresh)


def with_more(index: faiss.Index, vectors: np.ndarray) -> faiss.Index:
    grown = faiss.clone_index(index)
    grown.add(vectors)
    return prepared(grown)
