"""Crash safety: SIGKILL during a write never loses an acknowledged document or serves a half-written index."""

import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from rag.index.faiss.persist import load
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.tools.bench import server as live_server
from tests.conftest import ROOT
from tests.crash_driver import POINTS


@pytest.fixture
def built(pipeline):
    return pipeline.settings.source_dir, pipeline.settings.index_dir


def fresh_copy(built, tmp_path):
    """The session's corpus and built index, copied so a test may crash on them."""
    source, index = built
    shutil.copytree(source, tmp_path / "seeds")
    shutil.copytree(index, tmp_path / "index", ignore=shutil.ignore_patterns(".lock"))
    return tmp_path / "seeds", tmp_path / "index"


@pytest.mark.parametrize("point", list(POINTS))
def test_indexing_process_killed_mid_write_leaves_a_loadable_index(built, tmp_path, point):
    source, index = fresh_copy(built, tmp_path)
    before = load(index)
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "crash_driver.py"), str(source), str(index), "crashed",
                          point], capture_output=True, text=True, timeout=300)
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr

    after = load(index)  # never IndexCorrupt: CURRENT names a complete generation
    assert set(before.documents) <= set(after.documents) <= set(before.documents) | {"crashed"}
    assert after.vectors.ntotal == len(after.chunks)
    if "crashed" in after.documents:  # all of it or none of it
        assert any(c.doc_id == "crashed" for c in after.chunks)
    if point == "after-source-file":  # the file landed, the index did not: the next start indexes it
        reopened = Pipeline.open(Settings(source_dir=source, index_dir=index), log=lambda message: None)
        assert "crashed" in reopened.store.documents and not list(index.glob(".tmp-*"))
        assert reopened.ask("Who is the mayor of Hangzhou?", answerer="rules").text == "Yao Gaoyuan"


def test_server_killed_during_adds_keeps_every_acknowledged_document(built, tmp_path):
    source, index = fresh_copy(built, tmp_path)
    acknowledged: list[str] = []
    for round_, kill_after_s in enumerate((0.5, 2.0)):
        server = live_server.start(source, index, tmp_path / "server.log", "--allow-writes")
        stop_adding = threading.Event()

        def add_until_killed():
            n = 0
            while not stop_adding.is_set():
                doc_id = f"r{round_}-doc{n}"
                text = f"Report {doc_id}\n\nThe report {doc_id} says Gwangju counted {n} new AI firms this week.\n"
                try:
                    response = httpx.post(f"{server.url}/documents", json={"doc_id": doc_id, "text": text}, timeout=30)
                except httpx.TransportError:
                    return  # killed mid-request: not acknowledged
                if response.status_code == 201:
                    acknowledged.append(doc_id)
                n += 1

        adder = threading.Thread(target=add_until_killed)
        adder.start()
        time.sleep(kill_after_s)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        stop_adding.set()
        adder.join()

        restarted = live_server.start(source, index, tmp_path / "server.log")
        try:
            listed = {d["doc_id"] for d in httpx.get(f"{restarted.url}/documents", timeout=10).json()}
            assert set(acknowledged) <= listed, f"lost after kill {round_}: {set(acknowledged) - listed}"
            health = httpx.get(f"{restarted.url}/health", timeout=10).json()
            assert health["documents"] == len(listed)
            answer = httpx.post(f"{restarted.url}/ask", json={"question": "Who is the mayor of Hangzhou?", "answerer": "rules"},
                                timeout=30)
            assert answer.json()["text"] == "Yao Gaoyuan"
        finally:
            live_server.stop(restarted)
    assert acknowledged, "no add finished before the kills; the test proved nothing"


def test_server_starts_on_a_truncated_index_by_rebuilding_it(built, tmp_path):
    source, index = fresh_copy(built, tmp_path)
    generation = index / (index / "CURRENT").read_text().strip()
    vectors = generation / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:1000])
    with live_server.running(source, index, tmp_path / "server.log") as server:
        assert httpx.get(f"{server.url}/health", timeout=10).json()["documents"] == 5
    log = (tmp_path / "server.log").read_text()
    assert "is 1000 bytes, expected" in log and "building it from" in log
    load(index)  # the rebuilt index is sound


def test_temporary_files_of_killed_writers_are_removed_at_the_next_start(corpus, tmp_path):
    import os

    from rag.pipeline import Pipeline
    from rag.settings import Settings

    dead = corpus / ".note.txt.tmp-999999999-1-0123abcd"  # no such process
    dead.write_text("half a file")
    alive = corpus / f".other.txt.tmp-{os.getpid()}-1-0123abcd"  # a writer still running
    alive.write_text("being written")
    messages = []
    Pipeline.open(Settings(source_dir=corpus, index_dir=tmp_path / "index"), log=messages.append)
    assert not dead.exists() and alive.exists()
    assert any("left by an interrupted write" in m and dead.name in m for m in messages)
