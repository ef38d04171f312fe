"""`rag bench`: every measurement in one run, checked against the targets, written to bench.json and bench.md."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np

from rag.tools.bench.build import measure_build, synthetic_chunks
from rag.tools.bench.peers import measure_langchain
from rag.tools.bench.retrieval import measure_retrieval
from rag.tools.bench.seq2seq import measure_seq2seq
from rag.tools.bench.service import measure_cold_start, measure_service
from rag.tools.evaluation.dataset import load_dataset
from rag.pipeline import Pipeline
from rag.settings import Settings

SECTIONS = ("build", "retrieval", "postgres", "service", "cold_start", "seq2seq", "peers")


@dataclass
class BenchConfig:
    sections: list[str] = field(default_factory=lambda: list(SECTIONS))
    repeat: int = 5
    synthetic_chunks: int = 10_000
    sizes: list[int] = field(default_factory=lambda: [1_000, 10_000, 100_000, 1_000_000])
    postgres_sizes: list[int] = field(default_factory=lambda: [100_000])
    centres: int = 2_000  # embedded synthetic chunks the retrieval vectors are drawn around
    clients: list[int] = field(default_factory=lambda: [1, 4, 16])
    seconds: float = 15.0
    single_requests: int = 200
    prompts: int = 8
    t5_skeleton: Path = Path("tests/fixtures/flan-t5-small-skeleton")

    @classmethod
    def quick(cls, **overrides) -> "BenchConfig":
        """Minutes become seconds: for checking that the benchmark runs, not for numbers to quote."""
        return cls(**{"repeat": 2, "synthetic_chunks": 200, "sizes": [1_000, 10_000], "postgres_sizes": [2_000], "centres": 200, "clients": [1, 4],
                      "seconds": 2.0, "single_requests": 20, "prompts": 2} | overrides)


def run_bench(settings: Settings, dataset: Path, config: BenchConfig, log) -> dict:
    # The FAISS index's own figures need its files; the postgres section measures the database store apart.
    pipeline = Pipeline.open(settings.model_copy(update={"store": "faiss"}), log=log)
    examples = load_dataset(dataset)
    questions = [e.question for e in examples]
    results: dict = {"machine": machine(), "settings": settings.model_dump(mode="json", exclude={"api_key"}),
                     "config": asdict(config) | {"t5_skeleton": str(config.t5_skeleton)}}
    if "build" in config.sections:
        results["build"] = measure_build(settings, pipeline.store, config.synthetic_chunks, config.repeat, log)
    if {"retrieval", "postgres"} & set(config.sections):
        log("retrieval: embedding the centres and the eval questions")
        centres = pipeline.embedder.encode(synthetic_chunks(pipeline.store, config.centres, seed=1))
        queries = pipeline.embedder.encode(questions)
    if "postgres" in config.sections:
        from rag.tools.bench.postgres import measure_postgres

        url = settings.database_url.get_secret_value() if settings.database_url else None
        results["postgres"] = measure_postgres(url, centres, synthetic_chunks(pipeline.store, 2_000, seed=2), queries,
                                               config.postgres_sizes, settings.hnsw_ef_search, log)
    if "retrieval" in config.sections:
        results["retrieval"] = measure_retrieval(np.vstack([centres, pipeline.store.vectors.reconstruct_n(
            0, pipeline.store.vectors.ntotal)]), queries, config.sizes, settings.ivf_nprobe, log)
    if "service" in config.sections:
        titles = sorted({document.title for document in pipeline.store.documents.values()})
        open_questions = [f"{ask} {title}." for title in titles for ask in ("Summarize the article about", "Tell me about")]
        results["service"] = measure_service(settings, questions, config.clients, config.seconds,
                                             config.single_requests, log, open_questions)
    if "cold_start" in config.sections:
        results["cold_start"] = measure_cold_start(settings, questions[0], config.repeat, log)
    if "seq2seq" in config.sections:
        passages = [c.text for c in pipeline.store.chunks]
        results["seq2seq"] = measure_seq2seq(config.t5_skeleton, passages, settings.cache_dir, config.repeat,
                                             config.prompts, log)
    if "peers" in config.sections:
        results["peers"] = measure_langchain(pipeline, examples, config.repeat, log)
    results["targets"] = check_targets(results)
    return results


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpus": len(os.sched_getaffinity(0)), "cpu": model, "instructions": instruction_set(),
            "python": platform.python_version(),
            "packages": {name: version(name) for name in
                         ("torch", "onnxruntime", "faiss-cpu", "sentence-transformers", "ctranslate2", "fastapi")}}


def instruction_set() -> str:
    """The widest vector instructions the CPU offers: the neural reader is 2-3 times slower without AVX-512."""
    flags = set()
    if Path("/proc/cpuinfo").exists():
        flags = set(next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                          if line.startswith("flags")), []))
    extras = [name for name in ("avx512_vnni", "avx512_bf16", "avx_vnni") if name in flags]
    widest = next((name for name in ("avx512f", "avx2", "avx", "sse4_2") if name in flags), "unknown")
    return " ".join([widest.replace("avx512f", "avx512")] + extras)


def check_targets(results: dict) -> list[dict]:
    """The issue's targets, each with what was measured and whether it was met."""
    targets = []

    def target(name: str, measured, limit, met: bool) -> None:
        targets.append({"target": name, "measured": measured, "limit": limit, "met": bool(met)})

    if "service" in results:
        p50 = results["service"]["ask_one_client_ms"]["p50"]
        instructions = results.get("machine", {}).get("instructions", "?")
        target(f"warm /ask p50, one client (ms; CPU {instructions})", p50, "<= 60", p50 <= 60)
        if "open_answer_stage_ms" in results["service"]:
            p50 = results["service"]["open_answer_stage_ms"]["p50"]
            target("open question, answer stage p50 on the server (ms)", p50, "<= 150", p50 <= 150)
    sizes = results.get("retrieval", {}).get("sizes", {})
    if "10000" in sizes:
        row = sizes["10000"]
        p50 = row[row["auto_picks"]]["latency_ms"]["p50"]
        target("retrieval at 10k chunks, index chosen by auto (ms, p50)", p50, "<= 2", p50 <= 2)
    if "1000000" in sizes:
        ivf = sizes["1000000"]["ivf"]
        target("approximate retrieval at 1M (ms, p50)", ivf["latency_ms"]["p50"], "<= 10", ivf["latency_ms"]["p50"] <= 10)
        target("approximate recall@10 at 1M", ivf["recall_at_10"], ">= 0.95", ivf["recall_at_10"] >= 0.95)
    for size, row in results.get("postgres", {}).get("sizes", {}).items():
        if int(size) >= 100_000:
            p50 = row["latency_ms"]["p50"]
            target(f"postgres query at {int(size):,} chunks (ms, p50)", p50, "<= 5", p50 <= 5)
            target(f"postgres recall@10 at {int(size):,} chunks", row["recall_at_10"], ">= 0.95", row["recall_at_10"] >= 0.95)
        target(f"postgres load at {int(size):,} chunks, excluding embedding (chunks/s)", row["load_chunks_per_s"],
               ">= 2000", row["load_chunks_per_s"] >= 2000)
    for name, corpus in results.get("build", {}).items():
        if isinstance(corpus, dict) and "ratio_to_raw" in corpus:
            target(f"embed + index + save throughput / embedder raw ({name})", corpus["ratio_to_raw"], ">= 0.90",
                   corpus["ratio_to_raw"] >= 0.9)
        if isinstance(corpus, dict) and "full_build" in corpus:
            ratio = round(corpus["full_build"]["chunks_per_s_p50"] / corpus["embedder_raw"]["chunks_per_s_p50"], 3)
            target(f"full build incl. spaCy chunking / embedder raw ({name})", ratio, ">= 0.90", ratio >= 0.9)
    if "seq2seq" in results:
        speedup = results["seq2seq"]["speedup_p50"]
        target("seq2seq CTranslate2 int8 speed-up over transformers fp32", speedup, ">= 2", speedup >= 2)
    if "cold_start" in results:
        p50 = results["cold_start"]["seconds"]["p50"]
        target("cold start, process start to first answer (s, p50)", round(p50, 2), "<= 5", p50 <= 5)
    return targets
