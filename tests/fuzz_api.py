"""Fuzz the live API with schemathesis against its own OpenAPI schema, auth on; used by `make fuzz` and test_fuzz.py.

    python -m tests.fuzz_api --examples 100          # about 1,300 cases, all phases
    python -m tests.fuzz_api --examples 12 --phases fuzzing

Runs on a private copy of the seeds. Exit 0 only when schemathesis found no failure (server errors,
schema violations, ignored auth, ...) and the server's own /metrics counted no 5xx response.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from rag.tools.bench import server as live_server

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).with_name("schemathesis.toml")


def fuzz(examples: int, phases: str, seed: int, workdir: Path) -> dict:
    shutil.copytree(ROOT / "seeds", workdir / "seeds")
    key = secrets.token_urlsafe(16)
    # fuzzing is not a load test: no 503s wanted here, neither for a full queue nor for a long wait in it
    env = {"RAG_API_KEY": key, "RAG_QUEUE_LIMIT": "1000", "RAG_QUEUE_WAIT": "600"}
    with live_server.running(workdir / "seeds", workdir / "index", workdir / "server.log", env=env) as server:
        command = [
            str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "run",
            f"{server.url}/openapi.json", "--max-examples", str(examples), "--phases", phases,
            "--seed", str(seed), "--no-color",
        ]
        run = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"RAG_FUZZ_KEY": key})
        served = httpx.get(f"{server.url}/metrics", timeout=10).text
    generated = re.search(r"(\d+) generated", run.stdout)
    server_errors = sum(
        float(count) for status, count in re.findall(r'rag_requests_total\{[^}]*status="(\d+)"\} (\S+)', served)
        if status.startswith("5")
    )
    requests = sum(float(count) for count in re.findall(r"rag_requests_total\{[^}]*\} (\S+)", served))
    return {"exit_code": run.returncode, "cases": int(generated.group(1)) if generated else 0,
            "requests": int(requests), "server_errors": int(server_errors), "output": run.stdout + run.stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="max examples per operation")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        result = fuzz(args.examples, args.phases, args.seed, Path(workdir))
    print(result["output"][-4000:])
    print(f"fuzz: {result['cases']} cases generated, {result['requests']} requests served, "
          f"{result['server_errors']} responses with status 5xx, schemathesis exit code {result['exit_code']}")
    sys.exit(0 if result["exit_code"] == 0 and result["server_errors"] == 0 else 1)


if __name__ == "__main__":
    main()
