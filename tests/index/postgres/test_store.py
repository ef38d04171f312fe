"""RAG_STORE=postgres against a real PostgreSQL with pgvector (pgserver): answers, transactions, replicas, failures."""

import json
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import httpx
import psycopg
import pytest

from rag.tools.bench import server as live_server
from tests.conftest import SEEDS, private_copy
from tests.test_cli import rag

QUESTION = "How much national budget did Gwangju secure this year?"
NEW_ARTICLE = ("Busan opens a robotics port\n\nThe city of Busan announced on Monday that it will open an automated "
               "robotics port in 2031. The port will cost 3.2 trillion won and employ 1,400 engineers.\n")


def open_pipeline(url, corpus, index_dir):
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    settings = Settings(store="postgres", database_url=url, source_dir=corpus, index_dir=index_dir)
    return Pipeline.open(settings, log=lambda m: None)


def documents_in(url) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM rag_documents").fetchone()[0]


@pytest.mark.slow
def test_answers_and_citations_match_the_faiss_store(pipeline, database_url, corpus, tmp_path):
    shared = open_pipeline(database_url, corpus, tmp_path / "unused")
    assert documents_in(database_url) == 5  # an empty database is loaded from the folder on first use
    for question in (QUESTION, "Who is the president of Zhejiang University?", "What is the capital of Peru?"):
        ours, theirs = shared.ask(question), pipeline.ask(question)
        assert ours.answer == theirs.answer and ours.abstained == theirs.abstained
        assert [(c.doc_id, c.start, c.end) for c in ours.citations] == [(c.doc_id, c.start, c.end)
                                                                         for c in theirs.citations]
    for mode in ("dense", "hybrid"):  # the same vectors and BM25: the same passages in the same order
        assert [h.chunk.id for h in shared.search(QUESTION, 5, mode)] == [h.chunk.id for h in pipeline.search(QUESTION, 5, mode)]
    assert shared.ask(QUESTION, answerer="rules").answer == pipeline.ask(QUESTION, answerer="rules").answer


@pytest.mark.slow
def test_bm25_in_sql_scores_as_bm25s_does_after_adds_and_removals(pipeline, database_url, tmp_path):
    from rag.pipeline import Pipeline

    corpus, index = private_copy(pipeline, tmp_path)
    shared = open_pipeline(database_url, corpus, tmp_path / "unused")
    local = Pipeline.open(pipeline.settings.model_copy(update={"source_dir": corpus, "index_dir": index}),
                          log=lambda m: None)  # FAISS + bm25s over the same corpus, changed the same way
    questions = (QUESTION, "Who is the mayor of Hangzhou?", "AI AI data center budget", "the of and", "zzzz")

    def same():
        for question in questions:
            ours, theirs = shared.store.lexical(question, 10), local.store.lexical(question, 10)
            assert [h.chunk.id for h in ours] == [h.chunk.id for h in theirs], question
            assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], rel=1e-5), question

    same()
    text = "Mayor Kang of Gwangju said the AI data center budget will double. The mayor spoke in Hangzhou."
    for target in (shared, local):
        target.add_document("extra", text)
        target.remove_document(sorted(target.store.documents)[0])
    same()


@pytest.mark.slow
def test_fusion_in_one_sql_statement_equals_fusion_in_python(database_url, corpus, tmp_path):
    from rag.retrieve.dense import DenseRetriever
    from rag.retrieve.fusion import HybridRetriever
    from rag.retrieve.lexical import LexicalRetriever

    shared = open_pipeline(database_url, corpus, tmp_path / "unused")
    in_python = HybridRetriever([DenseRetriever(shared.store, shared.embedder), LexicalRetriever(shared.store)], 60)
    for question in (QUESTION, "Who is the mayor of Hangzhou?", "AI data center", "the of and"):
        ours, expected = shared.search(question, 8, "hybrid"), in_python.search(question, 8)
        assert [h.position for h in ours] == [h.position for h in expected], question
        assert [h.score for h in ours] == pytest.approx([h.score for h in expected], abs=1e-4)
        assert all(h.chunk.text for h in ours)


@pytest.mark.slow
def test_a_write_through_one_process_is_seen_by_another(database_url, corpus, tmp_path):
    first = open_pipeline(database_url, corpus, tmp_path / "a")
    second = open_pipeline(database_url, corpus, tmp_path / "b")
    first.add_document("busan", NEW_ARTICLE)
    result = second.ask("How many engineers will the Busan robotics port employ?")
    assert result.answer.startswith("1,400") and result.citations[0].doc_id == "busan"
    assert second.store.chunk_counts()["busan"] >= 1 and "busan" in second.store.documents
    second.remove_document("busan")
    assert "busan" not in first.store.documents and "busan" not in first.store.chunk_counts()
    from rag.errors import NoSuchDocument

    with pytest.raises(NoSuchDocument):
        first.remove_document("busan")


def test_metadata_given_with_a_write_is_stored_and_seen_by_another_process(database_url, corpus, tmp_path):
    meta = {"published": "2031-05-06", "url": "https://news.example/busan", "byline": "Kim Minji"}
    first = open_pipeline(database_url, corpus, tmp_path / "a")
    first.add_document("busan-dated", NEW_ARTICLE, meta=meta)
    try:
        second = open_pipeline(database_url, corpus, tmp_path / "b")
        assert second.store.documents["busan-dated"].meta == meta
        cited = second.ask("How many engineers will the Busan robotics port employ?", since="2031-01-01").citations
        assert cited and all(c.doc_id == "busan-dated" and c.published == "2031-05-06" for c in cited)
    finally:
        first.remove_document("busan-dated")


def test_ids_no_database_text_can_hold_are_not_found_not_500s(database_url, corpus, tmp_path):
    """A NUL byte or a lone surrogate can be in JSON and in a URL, but never in PostgreSQL text."""
    from fastapi.testclient import TestClient

    from rag.api.app import create_app

    pipeline = open_pipeline(database_url, corpus, tmp_path / "unused")
    settings = pipeline.settings.model_copy(update={"allow_writes": True})
    with TestClient(create_app(settings, pipeline)) as client:
        for bad in ("a\x00b", "a\ud800b"):
            asked = client.post("/ask", content=json.dumps({"question": QUESTION, "doc_ids": [bad]}),
                                headers={"content-type": "application/json"})
            assert asked.status_code == 404 and "no document" in asked.json()["error"]
            assert client.get(f"/documents/{quote(bad, errors='surrogatepass')}").status_code == 404
            assert client.delete(f"/documents/{quote(bad, errors='surrogatepass')}").status_code == 404
            added = client.post("/documents", content=json.dumps({"doc_id": bad, "text": NEW_ARTICLE}),
                                headers={"content-type": "application/json"})
            assert added.status_code in (400, 422) and "error" in added.json()


@pytest.mark.slow
def test_rag_index_reembeds_only_changed_files_and_removes_gone_ones(database_url, corpus, tmp_path):
    env = {"RAG_STORE": "postgres", "RAG_DATABASE_URL": database_url, "RAG_SOURCE_DIR": str(corpus)}
    done = rag("index", tmp_path=tmp_path, env=env)
    assert done.returncode == 0 and "5 file(s) added or changed" in done.stderr, done.stderr
    done = rag("index", tmp_path=tmp_path, env=env)
    assert done.returncode == 0 and "index up to date: 5 documents" in done.stdout
    first = sorted(corpus.iterdir())[0]
    first.write_text(first.read_text() + "\nThe city added a new paragraph about robots on Tuesday.\n")
    sorted(corpus.iterdir())[1].unlink()
    done = rag("index", tmp_path=tmp_path, env=env)
    assert "1 file(s) added or changed, 1 removed" in done.stderr, done.stderr
    assert documents_in(database_url) == 4


@pytest.mark.slow
def test_kill_during_a_bulk_load_keeps_the_previous_state(database_url, corpus, tmp_path):
    env = {"RAG_STORE": "postgres", "RAG_DATABASE_URL": database_url, "RAG_SOURCE_DIR": str(corpus)}
    assert rag("index", tmp_path=tmp_path, env=env).returncode == 0
    for n in range(10):  # enough work (about 600 chunks) that the load is still running when it is killed
        for article in SEEDS.iterdir():
            shutil.copy(article, corpus / f"copy{n}_{article.name}")
    environment = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RAG_")} | env

    def killed_midway(*flags: str, total: int) -> None:
        loader = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", *flags], cwd=tmp_path, env=environment,
                                  stderr=subprocess.PIPE, text=True)
        seen = ""
        while f"/{total} " not in seen:  # the progress line in a pipe: inside the transaction, part of the way in
            character = loader.stderr.read(1)
            assert character, f"the load ended before it could be killed: {seen[-500:]}"
            seen += character
        time.sleep(2.0)
        loader.send_signal(signal.SIGKILL)
        assert loader.wait(timeout=30) == -signal.SIGKILL, "the load finished before it was killed"

    killed_midway(total=50)
    assert documents_in(database_url) == 5  # the previous state, not a mix
    done = rag("index", tmp_path=tmp_path, env=env)
    assert done.returncode == 0 and documents_in(database_url) == 55
    killed_midway("--rebuild", total=55)  # a rebuild drops its tables inside the same transaction
    assert documents_in(database_url) == 55


@pytest.mark.slow
def test_two_replicas_serve_one_database(database_url, corpus, tmp_path):
    env = {"RAG_STORE": "postgres", "RAG_DATABASE_URL": database_url, "RAG_API_KEY": "s3cret"}
    assert rag("index", tmp_path=tmp_path, env=env | {"RAG_SOURCE_DIR": str(corpus)}).returncode == 0
    with live_server.running(corpus, tmp_path / "i1", tmp_path / "one.log", env=env) as one, \
            live_server.running(tmp_path / "elsewhere", tmp_path / "i2", tmp_path / "two.log", env=env) as two:
        added = httpx.post(f"{one.url}/documents", json={"doc_id": "busan", "text": NEW_ARTICLE},
                           headers={"Authorization": "Bearer s3cret"}, timeout=60)
        assert added.status_code == 201, added.text
        answer = httpx.post(f"{two.url}/ask", json={"question": "How much will the Busan robotics port cost?"},
                            timeout=60).json()
        assert answer["answer"].startswith("3.2 trillion") and answer["citations"][0]["doc_id"] == "busan"
        listed = {d["doc_id"] for d in httpx.get(f"{two.url}/documents", timeout=30).json()}
        assert listed == {p.stem for p in SEEDS.iterdir()} | {"busan"}
        gone = httpx.delete(f"{two.url}/documents/busan", headers={"Authorization": "Bearer s3cret"}, timeout=60)
        assert gone.status_code == 204
        assert httpx.get(f"{one.url}/documents/busan", timeout=30).status_code == 404
        assert httpx.get(f"{one.url}/health", timeout=30).json()["documents"] == 5


def eventually(check, seconds: float = 30):
    """Streaming replication applies a commit on the replica a moment later."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_read_replica_answers_questions_and_refuses_writes_clearly(database_url, standby_url, corpus, tmp_path):
    primary = {"RAG_STORE": "postgres", "RAG_DATABASE_URL": database_url, "RAG_API_KEY": "s3cret"}
    replica = primary | {"RAG_DATABASE_URL": standby_url}
    early = rag("ask", QUESTION, tmp_path=tmp_path, env=replica)  # nothing indexed on the primary yet
    assert early.returncode == 2 and "holds no rag tables yet" in early.stderr and "Traceback" not in early.stderr
    assert rag("index", tmp_path=tmp_path, env=primary | {"RAG_SOURCE_DIR": str(corpus)}).returncode == 0
    eventually(lambda: documents_in(standby_url) == 5)
    refused = rag("index", tmp_path=tmp_path, env=replica | {"RAG_SOURCE_DIR": str(corpus)})
    assert refused.returncode == 2 and refused.stderr.startswith("error: the database at")
    assert "read-only replica" in refused.stderr and "Traceback" not in refused.stderr
    key = {"Authorization": "Bearer s3cret"}
    with live_server.running(corpus, tmp_path / "i1", tmp_path / "one.log", env=primary) as one, \
            live_server.running(tmp_path / "elsewhere", tmp_path / "i2", tmp_path / "two.log", env=replica) as two:
        write = httpx.post(f"{two.url}/documents", json={"doc_id": "busan", "text": NEW_ARTICLE}, headers=key, timeout=60)
        assert write.status_code == 409 and "read-only replica" in write.json()["error"]
        assert httpx.delete(f"{two.url}/documents/{sorted(p.stem for p in SEEDS.iterdir())[0]}", headers=key,
                            timeout=60).status_code == 409
        added = httpx.post(f"{one.url}/documents", json={"doc_id": "busan", "text": NEW_ARTICLE}, headers=key, timeout=60)
        assert added.status_code == 201, added.text
        eventually(lambda: documents_in(standby_url) == 6)
        answer = httpx.post(f"{two.url}/ask", json={"question": "How much will the Busan robotics port cost?"},
                            timeout=60).json()
        assert answer["answer"].startswith("3.2 trillion") and answer["citations"][0]["doc_id"] == "busan"


def test_database_problems_are_one_clear_error(database_url, postgres_server, tmp_path):
    bad = "host=127.0.0.1 port=9 user=nobody password=hunter2"
    done = rag("ask", QUESTION, tmp_path=tmp_path, env={"RAG_STORE": "postgres", "RAG_DATABASE_URL": bad})
    assert done.returncode == 2 and done.stderr.startswith("error: cannot connect to the database")
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr

    done = rag("ask", QUESTION, tmp_path=tmp_path, env={"RAG_STORE": "postgres"})
    assert done.returncode == 2 and "RAG_DATABASE_URL" in done.stderr and "Traceback" not in done.stderr

    # A user who may not create extensions, in a database without pgvector.
    with psycopg.connect(postgres_server.get_uri(), autocommit=True) as connection:
        connection.execute("CREATE ROLE plain LOGIN PASSWORD 'plain'")
        connection.execute("CREATE DATABASE plainonly OWNER plain")
    host = postgres_server.get_uri().split("host=")[1]
    plain = f"postgresql://plain:plain@/plainonly?host={host}"
    done = rag("ask", QUESTION, tmp_path=tmp_path, env={"RAG_STORE": "postgres", "RAG_DATABASE_URL": plain})
    assert done.returncode == 2 and "CREATE EXTENSION vector" in done.stderr and "Traceback" not in done.stderr

    env = {"RAG_STORE": "postgres", "RAG_DATABASE_URL": database_url}
    assert rag("index", tmp_path=tmp_path, env=env).returncode == 0
    done = rag("ask", QUESTION, tmp_path=tmp_path, env=env | {"RAG_CHUNK_TOKENS": "64"})
    assert done.returncode == 2 and "chunk_tokens: 128 → 64" in done.stderr and "rag index --rebuild" in done.stderr
    done = rag("index", "--rebuild", tmp_path=tmp_path, env=env | {"RAG_CHUNK_TOKENS": "64"})
    assert done.returncode == 0 and rag("ask", QUESTION, tmp_path=tmp_path,
                                        env=env | {"RAG_CHUNK_TOKENS": "64"}).returncode == 0


@pytest.mark.slow
def test_a_document_filter_applies_before_ranking_in_the_database(database_url, corpus, tmp_path):
    shared = open_pipeline(database_url, corpus, tmp_path / "unused")
    other = "001_25a75e6ad182f60e"
    for mode in ("dense", "hybrid"):
        hits = shared.search("national budget secured this year", k=50, retrieval=mode, doc_ids=[other])
        assert {h.chunk.doc_id for h in hits} == {other} and len(hits) == shared.store.chunk_counts()[other], mode
    result = shared.ask(QUESTION, doc_ids=["002_a41762f22f1f4beb"])
    assert result.answer.startswith("62.6 billion KRW")


@pytest.mark.slow
def test_a_database_outage_is_a_quick_json_503_and_the_server_recovers_without_a_restart(corpus, tmp_path):
    from urllib.parse import parse_qs, urlsplit

    import pgserver

    database = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")  # its own: this test stops it
    url = database.get_uri()
    socket_folder = parse_qs(urlsplit(url).query)["host"][0]
    env = {"RAG_STORE": "postgres", "RAG_DATABASE_URL": url}
    try:
        with live_server.running(corpus, tmp_path / "index", tmp_path / "server.log", env=env) as server:
            assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
            pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=database.pgdata, user=database.system_user)
            for method, path, body in [("GET", "/health", None), ("GET", "/documents", None), ("GET", "/metrics", None),
                                       ("POST", "/ask", {"question": QUESTION})] * 2:
                started = time.monotonic()
                response = httpx.request(method, f"{server.url}{path}", json=body, timeout=60)
                waited = time.monotonic() - started
                assert response.status_code == 503, (path, response.text)
                assert "database" in response.json()["error"] and response.headers["retry-after"] == "1"
                assert waited < 5, f"{path} took {waited:.1f} s to say the database is down"  # was 30-60 s
            pgserver.pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {socket_folder}", "-l", str(database.log), "start"],
                            pgdata=database.pgdata, user=database.system_user)
            eventually(lambda: httpx.get(f"{server.url}/health", timeout=30).status_code == 200)
            answer = httpx.post(f"{server.url}/ask", json={"question": QUESTION}, timeout=60).json()
            assert answer["answer"].startswith("62.6 billion KRW")
    finally:
        database.cleanup()


def test_document_metadata_is_stored_and_filters_by_date(database_url, corpus, tmp_path):
    pipeline = open_pipeline(database_url, corpus, tmp_path / "index")
    pipeline.add_document("busan", "---\ndate: 2031-01-02\nauthor: Kim Ha-eun\n---\n" + NEW_ARTICLE)
    assert pipeline.store.documents["busan"].meta == {"published": "2031-01-02", "byline": "Kim Ha-eun"}
    result = pipeline.ask("How much will the Busan robotics port cost?", since="2031-01-01")
    assert result.citations[0].doc_id == "busan" and result.citations[0].published == "2031-01-02"
    assert set(result.retrieved) >= {"busan"}  # the undated seeds are included by default
