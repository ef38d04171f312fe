"""A short, bounded loopback stress test: asks, searches and adds from concurrent clients, zero errors,
and server memory that does not grow with the requests served. `make stress` runs the full one."""

from rag.bench.traffic import LoadResult, memory_growth
from rag.bench.timing import percentiles
from rag.bench.stress import stress_test
from tests.conftest import ROOT


def test_mixed_load_has_no_errors_and_flat_memory(pipeline):
    summary = stress_test(pipeline.settings, ROOT / "eval" / "questions.jsonl", clients=8, seconds=8, add_share=0.1)
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["ok"] + summary["rejected_503"] == summary["requests"] > 50
    assert set(summary["latency_ms_by_kind"]) == {"ask", "search", "add"}
    assert summary["server_memory_mib"]["growth"] < 32, summary["server_memory_mib"]


def test_percentiles_and_memory_growth():
    assert percentiles([]) == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "n": 0}
    assert percentiles(list(range(1, 101)))["p50"] == 50.5
    samples = [(t, 1024 * (100 + 10 * t)) for t in range(11)]  # 10 MiB more every second
    assert memory_growth(samples) == {"first_half": 150.0, "second_half": 200.0, "growth": 50.0}
    flat = [(t, 1024 * (100 + 40 * (t >= 1))) for t in range(11)]  # one step up while warming, then flat
    assert memory_growth(flat)["growth"] == 0.0
    assert LoadResult(clients=1, seconds=0).summary()["requests_per_s"] == 0.0
