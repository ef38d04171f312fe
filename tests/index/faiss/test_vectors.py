"""Vector index types: exact (flat), approximate (IVF), and the automatic choice between them."""

import faiss
import numpy as np

from rag.index.faiss import vectors as vector_index


def clustered(n: int, dimension: int = 32, centres: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, dimension))
    vectors = middle[rng.integers(0, centres, n)] + 0.3 * rng.normal(size=(n, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_auto_is_exact_below_the_threshold_and_ivf_above():
    assert vector_index.resolve("auto", vector_index.AUTO_IVF_FROM - 1) == "flat"
    assert vector_index.resolve("auto", vector_index.AUTO_IVF_FROM) == "ivf"
    assert vector_index.resolve("flat", 10**7) == "flat"
    assert vector_index.kind_of(vector_index.build(clustered(100), "auto", nprobe=8)) == "flat"


def test_ivf_finds_the_exact_neighbours_and_keeps_its_training():
    vectors, queries = clustered(6000), clustered(50, seed=1)
    exact = vector_index.build(vectors, "flat", nprobe=1)
    approximate = vector_index.build(vectors, "ivf", nprobe=16)
    assert vector_index.kind_of(approximate) == "ivf" and approximate.nlist == vector_index.ivf_lists(6000)
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= 0.95

    assert np.allclose(vector_index.all_vectors(approximate)[np.argsort(np.arange(6000))], vectors, atol=1e-6)
    smaller = vector_index.refilled(approximate, vectors[:100])
    assert smaller.ntotal == 100 and smaller.is_trained and smaller.nlist == approximate.nlist
    grown = vector_index.with_more(smaller, vectors[100:200])
    assert grown.ntotal == 200 and smaller.ntotal == 100  # the original is left alone for readers in flight
    assert np.allclose(vector_index.all_vectors(grown), vectors[:200], atol=1e-6)


def test_nprobe_is_a_search_setting_and_survives_a_round_trip(tmp_path):
    index = vector_index.build(clustered(3000), "ivf", nprobe=4)
    vector_index.set_nprobe(index, 9)
    faiss.write_index(index, str(tmp_path / "v.faiss"))
    loaded = vector_index.prepared(faiss.read_index(str(tmp_path / "v.faiss")))
    assert loaded.nprobe == 9 and vector_index.all_vectors(loaded).shape == (3000, 32)
