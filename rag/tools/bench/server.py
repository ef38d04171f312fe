"""`rag serve` as a real process on a free 127.0.0.1 port: what the benchmark, the stress test and the
HTTP tests talk to, so they measure the service the way its users run it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class LiveServer:
    process: subprocess.Popen
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(source_dir: Path, index_dir: Path, log: Path, *flags: str, env: dict[str, str] | None = None,
          timeout: float = 120) -> LiveServer:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environment |= {"RAG_SOURCE_DIR": str(source_dir), "RAG_INDEX_DIR": str(index_dir)} | (env or {})
    with open(log, "ab") as handle:
        process = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port), *flags],
                                   env=environment, stdout=handle, stderr=subprocess.STDOUT)
    server = LiveServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"rag serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        if time.monotonic() > deadline:
            stop(server)
            raise AssertionError(f"rag serve was not ready after {timeout} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory now (VmRSS) and its peak so far (VmHWM), from Linux's /proc."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields


def stop(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def running(source_dir: Path, index_dir: Path, log: Path, *flags: str, env: dict[str, str] | None = None):
    server = start(source_dir, index_dir, log, *flags, env=env)
    try:
        yield server
    finally:
        stop(server)
