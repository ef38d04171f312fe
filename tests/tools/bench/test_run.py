"""`rag bench` end to end at toy sizes (plumbing and report, not speed), and its pieces on known inputs."""

import json
from pathlib import Path

import numpy as np
import psutil
import pytest

from rag.tools.bench.build import synthetic_chunks
from rag.tools.bench.report import write_bench
from rag.tools.bench.retrieval import recall_at_10, synthetic_vectors
from rag.tools.bench.run import SECTIONS, BenchConfig, check_targets, run_bench
from tests.conftest import ROOT


@pytest.mark.slow
def test_every_section_runs_and_is_reported(pipeline, tiny_t5, tmp_path):
    config = BenchConfig(repeat=1, synthetic_chunks=20, sizes=[2_000], postgres_sizes=[2_000], centres=40, clients=[2],
                         seconds=1.0, single_requests=6,
                         prompts=2, t5_skeleton=Path(tiny_t5))  # the tiny T5 keeps the seq2seq section quick
    results = run_bench(pipeline.settings, ROOT / "eval" / "questions.jsonl", config, log=lambda message: None)
    assert set(SECTIONS) <= set(results)
    write_bench(results, tmp_path)
    assert json.loads((tmp_path / "bench.json").read_text())["targets"] == results["targets"]
    report = (tmp_path / "bench.md").read_text()
    for heading in ("Targets", "Index build", "Vector search", "PostgreSQL store", "Service", "Cold start", "Seq2seq",
                    "Against LangChain"):
        assert f"## {heading}" in report
    postgres = results["postgres"]["sizes"]["2000"]
    ef_search = str(pipeline.settings.hnsw_ef_search)  # the setting, next to fixed points of the curve
    assert postgres["recall_at_10"] > 0.5 and set(postgres["by_ef_search"]) == {"100", "400", ef_search, "800"}
    assert results["postgres"]["server"]["shared_buffers"] == "2GB"  # the throwaway server as production is advised
    assert not [p for p in psutil.process_iter(["cmdline"])  # and it is stopped at the end
                if any("rag-bench-pg-" in part for part in p.info["cmdline"] or [])]
    assert results["service"]["throughput"]["2"]["errors"] == 0
    assert results["seq2seq"]["input_tokens"] == [512]
    assert results["seq2seq"]["outputs_ctranslate2_float32"]["identical"] == 2  # same decoding, no quantisation
    assert results["peers"]["recall_at_5"]["langchain"] == results["peers"]["recall_at_5"]["ours_dense"]
    assert {t["target"].split(" (")[0] for t in results["targets"]} >= {"warm /ask p50, one client",
                                                                        "cold start, process start to first answer"}


def test_synthetic_data_is_realistic_and_reproducible(pipeline):
    texts = synthetic_chunks(pipeline.store, 50)
    assert len(texts) == 50 and texts == synthetic_chunks(pipeline.store, 50)
    known = {s for c in pipeline.store.chunks for s in c.sentence_texts()}
    assert all(any(s in text for s in known) for text in texts)

    centres = np.eye(4, 16, dtype=np.float32)
    vectors = synthetic_vectors(centres, 1000)
    assert vectors.shape == (1000, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.mean(np.max(vectors @ centres.T, axis=1)) > 0.8  # drawn around the centres, not uniform


def test_recall_and_targets():
    assert recall_at_10(np.array([[1, 2, 3, 4]]), np.array([[4, 3, 9, 8]])) == 0.5
    results = {"service": {"ask_one_client_ms": {"p50": 61.0}}, "cold_start": {"seconds": {"p50": 4.2}}}
    assert [(t["met"]) for t in check_targets(results)] == [False, True]


def test_the_machine_names_its_vector_instructions_beside_the_latency_target():
    from rag.tools.bench.run import machine

    described = machine()
    assert described["instructions"].split()[0] in ("avx512", "avx2", "avx", "sse4_2", "unknown")
    results = {"machine": described, "service": {"ask_one_client_ms": {"p50": 50.0}}}
    [row] = [t for t in check_targets(results) if t["target"].startswith("warm /ask p50")]
    assert described["instructions"] in row["target"] and row["met"]
