"""The service as users meet it: /ask latency and throughput against a live `rag serve`, its memory,
and cold start (process start to first answer)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from rag.tools.bench.traffic import ask_only, run_traffic
from rag.tools.bench.stress import private_server
from rag.tools.bench.server import memory_kib
from rag.tools.bench.timing import each_ms, percentiles
from rag.settings import Settings


def measure_service(settings: Settings, questions: list[str], client_levels: list[int], seconds: float,
                    single_requests: int, log, open_questions: list[str] = ()) -> dict:
    results = {}
    started = time.perf_counter()
    with private_server(settings) as server:
        results["server_start_to_ready_s"] = round(time.perf_counter() - started, 2)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            first = time.perf_counter()
            client.post("/ask", json={"question": questions[0]}).raise_for_status()
            results["first_answer_after_ready_ms"] = round((time.perf_counter() - first) * 1000, 1)
            log(f"service: one client, {single_requests} sequential asks")
            server_side = []

            def ask(question: str) -> None:
                response = client.post("/ask", json={"question": question})
                response.raise_for_status()
                server_side.append(response.json()["timings_ms"]["total"])

            asked = (questions * (single_requests // len(questions) + 1))[:single_requests]
            results["ask_one_client_ms"] = each_ms(ask, asked, warmup=5)
            results["ask_server_side_ms"] = percentiles(server_side[5:])
            if open_questions:  # answers of sentences: each one new to the server (no cached sentence vectors)
                log(f"service: one client, {len(open_questions)} open questions")
                forms, answer_ms = [], []

                def ask_open(question: str) -> None:
                    response = client.post("/ask", json={"question": question})
                    response.raise_for_status()
                    forms.append(response.json()["form"])
                    answer_ms.append(response.json()["timings_ms"]["answer"])

                results["open_one_client_ms"] = each_ms(ask_open, list(open_questions), warmup=0)
                results["open_answer_stage_ms"] = percentiles(answer_ms)
                results["open_answered_in_sentences"] = round(forms.count("sentences") / len(forms), 3)
        results["throughput"] = {}
        for clients in client_levels:
            log(f"service: {clients} concurrent clients for {seconds:g} s")
            load = run_traffic(server.url, clients, ask_only(questions, seed=clients), seconds=seconds,
                            server_pid=server.process.pid)
            summary = load.summary()
            results["throughput"][str(clients)] = {k: summary[k] for k in
                                                   ("requests", "requests_per_s", "errors", "rejected_503",
                                                    "latency_ms")}
        memory = memory_kib(server.process.pid)
        results["server_memory_mib"] = {"rss": round(memory["VmRSS"] / 1024, 1),
                                        "peak": round(memory["VmHWM"] / 1024, 1)}
    return results


def measure_cold_start(settings: Settings, question: str, repeat: int, log) -> dict:
    """`rag ask` from a fresh process, index built and models cached: what a CLI user waits for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_SOURCE_DIR": str(settings.source_dir), "RAG_INDEX_DIR": str(settings.index_dir),
            "RAG_CACHE_DIR": str(settings.cache_dir)}
    command = [sys.executable, "-m", "rag.cli", "ask", question]
    subprocess.run(command, env=env, capture_output=True, check=True)  # warm-up: the OS file cache, not our state
    runs = []
    for n in range(repeat):
        log(f"cold start: run {n + 1} of {repeat}")
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return {"command": f"rag ask {question!r}", "seconds": percentiles(runs)}

