"""`rag stress`: the reliability stress test. Many clients mix asks, searches and document adds against a live
server running on a private copy of the corpus and index (the real ones are never written)."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rag.atomic import write_text
from rag.tools.bench import server as live_server
from rag.tools.bench.traffic import SLOTS, mixed, run_traffic
from rag.tools.evaluation.dataset import load_dataset
from rag.settings import Settings


@contextlib.contextmanager
def private_server(settings: Settings, *flags: str, env: dict[str, str] | None = None) -> Iterator[live_server.LiveServer]:
    """`rag serve` on a temporary copy of the corpus and (if built) the index."""
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as workdir:
        root = Path(workdir)
        shutil.copytree(settings.source_dir, root / "seeds")
        if settings.index_dir.is_dir():
            shutil.copytree(settings.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock", ".tmp-*"))
        with live_server.running(root / "seeds", root / "index", root / "server.log", *flags, env=env) as server:
            yield server


def eval_questions(dataset: Path) -> list[str]:
    return [example.question for example in load_dataset(dataset)]


def stress_test(settings: Settings, dataset: Path, clients: int, seconds: float, add_share: float,
                env: dict[str, str] | None = None) -> dict:
    """`env` is added to the server's environment (the leak check uses it to fix the allocator's settings)."""
    key = secrets.token_urlsafe(16)
    questions = eval_questions(dataset)
    with private_server(settings, env={"RAG_API_KEY": key} | (env or {})) as server:
        # Warm-up, timed apart: every add slot filled once and one question per client. Without it, 3 of 9
        # 8-second runs on a 2-core AVX2 machine had a second half 37-51 MiB above the first; with it, 8 runs
        # stayed within -9 and +24 MiB. Its errors still count.
        warm_up = [run_traffic(server.url, 1, mixed(questions, 1.0, key), limit=SLOTS),
                   run_traffic(server.url, clients, mixed(questions, 0.0, key), limit=clients)]
        requests = mixed(questions, add_share, key)
        result = run_traffic(server.url, clients, requests, seconds=seconds, server_pid=server.process.pid)
    result.errors[:0] = [error for run in warm_up for error in run.errors]
    return result.summary() | {"error_samples": result.errors[:10]}


def write_summary(summary: dict, path: Path) -> None:
    write_text(path, json.dumps(summary, indent=2) + "\n")
