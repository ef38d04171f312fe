"""The HTTP API in process (FastAPI's TestClient), over the session's real pipeline on each store."""

import json
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.api.app import create_app
from rag.tools.bench import server as live_server


@pytest.fixture(scope="module")
def client(any_store_pipeline):
    """The API over each store, FAISS files and PostgreSQL: every test using it runs on both."""
    with TestClient(create_app(any_store_pipeline.settings, any_store_pipeline)) as client:
        yield client


def test_ask_returns_a_cited_answer(client):
    response = client.post("/ask", json={"question": "  How much national budget did Gwangju secure this year?  "})
    assert response.status_code == 200
    body = response.json()
    assert body["answer"].startswith("62.6 billion KRW [1]") and body["text"] == "62.6 billion KRW"
    citation = body["citations"][0]
    assert citation["doc_id"] == "002_a41762f22f1f4beb" and "62.6 billion KRW" in citation["quote"]
    document = client.get(f"/documents/{citation['doc_id']}").json()
    assert document["text"][citation["start"] : citation["end"]] == citation["quote"]  # a client can highlight it
    assert set(body["timings_ms"]) == {"retrieve", "answer", "total"}
    assert body["confidence"] in ("high", "low") and 0 < body["score"] <= 1


def test_the_api_docs_work_offline(pipeline):
    """/docs and /redoc load their scripts from this server, never a CDN; the page has its own icon."""
    import re

    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        for path in ("/docs", "/redoc"):
            page = client.get(path)
            assert page.status_code == 200 and "openapi.json" in page.text
            assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page.text)
            assert assets and all(a.startswith("/static-offline-docs/") for a in assets), assets
            for asset in assets:
                assert client.get(asset).status_code == 200, asset
        assert '<link rel="icon" href="data:image/svg+xml' in client.get("/").text


def test_head_answers_like_get_without_a_body(client):
    for path in ("/", "/health", "/documents", "/openapi.json"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]


def test_no_other_site_may_frame_the_page(client):
    for response in (client.get("/"), client.post("/ask", json={"question": " "})):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_ask_abstains_with_closest_passages(client):
    body = client.post("/ask", json={"question": "What is the capital of France?", "k": 3}).json()
    assert body["abstained"] and body["citations"] == [] and body["passages"]
    assert body["confidence"] is None and body["reason"]


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"question": "   "}, "question: the question is empty"),
        ({"question": "x" * 2001}, "longer than 2000"),
        ({"question": "Who?", "k": 0}, "k:"),
        ({"question": "Who?", "k": 51}, "k:"),
        ({"question": "Who?", "answerer": "oracle"}, "unknown answerer"),
        ({"question": 42}, "question:"),
        ({}, "question:"),
    ],
)
def test_bad_ask_requests_get_a_4xx_json_error(client, payload, message):
    response = client.post("/ask", json=payload)
    assert 400 <= response.status_code < 500
    assert message in response.json()["error"]


def test_search_and_its_validation(client):
    hits = client.get("/search", params={"q": "Hangzhou mayor", "k": 2}).json()
    assert len(hits) == 2 and hits[0]["rank"] == 1
    assert client.get("/search", params={"q": "x", "k": 99}).status_code == 422
    assert client.get("/search").status_code == 422


def test_documents_and_health(client):
    listing = client.get("/documents").json()
    assert len(listing) == 5 and all(d["chunks"] > 0 for d in listing)
    assert client.get("/documents/no-such-id").status_code == 404
    for hostile in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..%5Cseeds"):
        assert client.get(f"/documents/{hostile}").status_code == 404
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == 5 and health["embed_model"] == "all-MiniLM-L6-v2"


def test_openapi_schema_is_published(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/ask", "/ask/stream", "/search", "/documents", "/documents/{doc_id}", "/health", "/metrics"} <= set(paths)
    upload = paths["/documents"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(upload)


def server_sent_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_ask_stream_sends_the_same_answer_then_its_citations(client):
    question = {"question": "Who is the mayor of Hangzhou?"}
    plain = client.post("/ask", json=question).json()
    response = client.post("/ask/stream", json=question)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = server_sent_events(response.text)
    assert [name for name, _ in events] == ["answer"] + ["citation"] * len(plain["citations"]) + ["done"]
    assert events[0][1]["answer"] == plain["answer"] and not events[0][1]["abstained"]
    assert events[0][1]["confidence"] == plain["confidence"] and events[0][1]["score"] == plain["score"]
    assert [data["quote"] for name, data in events if name == "citation"] == [c["quote"] for c in plain["citations"]]
    assert client.post("/ask/stream", json={"question": " "}).status_code == 422  # errors before the stream starts
    refused = client.post("/ask/stream", json={"question": "Who?", "answerer": "oracle"})
    assert refused.status_code == 400 and "unknown answerer" in refused.json()["error"]


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/documents/no-such-id")
    text = client.get("/metrics").text
    assert 'rag_requests_total{method="GET",route="/documents/{doc_id}",status="404"}' in text
    assert "rag_request_duration_seconds_bucket" in text and "rag_documents 5.0" in text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_web_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert 'id="question"' in response.text and "/ask" in response.text


class HeldPipeline:
    """The real pipeline, except that ask() waits until the test lets it go."""

    def __init__(self, pipeline):
        self._pipeline, self.release = pipeline, threading.Event()

    def __getattr__(self, name):
        return getattr(self._pipeline, name)

    def ask(self, *args, **kwargs):
        self.release.wait(30)
        return self._pipeline.ask(*args, **kwargs)


def test_over_capacity_requests_get_503_with_retry_after(pipeline):
    held = HeldPipeline(pipeline)
    settings = pipeline.settings.model_copy(update={"workers": 1, "queue_limit": 1})
    statuses = []
    with TestClient(create_app(settings, held)) as client:
        def ask():
            statuses.append(client.post("/ask", json={"question": "Who is the mayor of Hangzhou?"}).status_code)

        threads = [threading.Thread(target=ask) for _ in range(2)]  # one running, one queued
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while "rag_model_calls_queued 1.0" not in client.get("/metrics").text:
            assert time.monotonic() < deadline, "the two requests never filled the worker and the queue"
            time.sleep(0.05)
        refused = client.post("/ask", json={"question": "Who is the mayor of Hangzhou?"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert "busy" in refused.json()["error"]
        assert client.get("/health").status_code == 200  # cheap reads do not queue behind model work
        held.release.set()
        for thread in threads:
            thread.join()
        assert statuses == [200, 200]
        assert "rag_rejected_total 1.0" in client.get("/metrics").text


@pytest.mark.slow
def test_rag_serve_answers_over_real_http(pipeline, tmp_path):
    with live_server.running(pipeline.settings.source_dir, pipeline.settings.index_dir, tmp_path / "log") as server:
        question = {"question": "Who is the mayor of Hangzhou?", "answerer": "rules"}
        body = httpx.post(f"{server.url}/ask", json=question, timeout=30).json()
        assert body["answer"].startswith("Yao Gaoyuan") and body["citations"]
        assert httpx.post(f"{server.url}/ask", json={"question": ""}, timeout=30).status_code == 422
        stream = httpx.post(f"{server.url}/ask/stream", json=question, timeout=30)
        assert server_sent_events(stream.text)[0][1]["answer"] == body["answer"]
        assert "rag_requests_total" in httpx.get(f"{server.url}/metrics", timeout=5).text
        assert httpx.get(server.url, timeout=5).headers["content-type"].startswith("text/html")
        refused = httpx.post(f"{server.url}/documents", json={"doc_id": "x", "text": "y"}, timeout=5)
        assert refused.status_code == 403  # no key, no --allow-writes


def test_unknown_request_fields_are_a_422_naming_the_field(client):
    response = client.post("/ask", json={"question": "Who is the mayor of Hangzhou?", "date_from": "2024-01-01"})
    assert response.status_code == 422 and "date_from" in response.json()["error"]


def test_search_uses_the_configured_k(pipeline):
    settings = pipeline.settings.model_copy(update={"k": 3})
    with TestClient(create_app(settings, pipeline)) as client:
        assert len(client.get("/search", params={"q": "Gwangju budget"}).json()) == 3


def test_doc_ids_restrict_ask_and_search_to_those_documents(client):
    budget, other = "002_a41762f22f1f4beb", "001_25a75e6ad182f60e"
    question = "How much national budget did Gwangju secure this year?"
    answer = client.post("/ask", json={"question": question, "doc_ids": [budget]}).json()
    assert answer["answer"].startswith("62.6 billion KRW") and {c["doc_id"] for c in answer["citations"]} == {budget}
    elsewhere = client.post("/ask", json={"question": question, "doc_ids": [other]}).json()
    assert all(p["doc_id"] == other for p in elsewhere["citations"] + elsewhere["passages"])
    passages = client.get("/search", params={"q": "budget", "k": 10, "doc_ids": [other, budget]}).json()
    assert passages and {p["doc_id"] for p in passages} <= {other, budget}
    assert client.post("/ask", json={"question": question, "doc_ids": ["nope"]}).status_code == 404
    assert client.post("/ask", json={"question": question, "doc_ids": []}).status_code == 422
    assert client.get("/search", params={"q": "budget", "doc_ids": "nope"}).status_code == 404


def test_json_routes_refuse_another_content_type_with_415_and_answer_open_questions_in_sentences(pipeline):
    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        form = client.post("/ask", data={"question": "Who is the mayor?"})
        assert form.status_code == 415 and "application/json" in form.json()["error"]
        chat = client.post("/v1/chat/completions", content=b"hi", headers={"content-type": "text/plain"})
        assert chat.status_code == 415 and "application/json" in chat.json()["error"]["message"]
        opened = client.post("/ask", json={"question": "Tell me about Gwangju's plan to nurture talent."}).json()
        assert opened["form"] == "sentences" and opened["answer"].count("[") >= 2
        short = client.post("/ask", json={"question": "Tell me about Gwangju's plan to nurture talent.",
                                          "form": "span"}).json()
        assert short["form"] == "span"
        streamed = client.post("/ask/stream", json={"question": "Summarize the article about Gyeonggi Province."})
        assert '"form": "sentences"' in streamed.text


def test_health_answers_503_in_seconds_when_the_store_hangs(pipeline, monkeypatch):
    """A stopped (not dead) database once left /health without a reply for 25 s and more."""
    import time

    from rag.api import operations

    monkeypatch.setattr(operations, "HEALTH_TIMEOUT_S", 0.3)
    hung = threading.Event()

    class Hung:
        documents = {}

        def chunk_counts(self):
            hung.wait(5)
            return {}

    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        monkeypatch.setattr(type(pipeline), "store", property(lambda self: Hung()))
        started = time.monotonic()
        answer = client.get("/health")
        hung.set()
    assert answer.status_code == 503 and "did not answer" in answer.json()["error"]
    assert answer.headers["retry-after"] and time.monotonic() - started < 3


def test_a_body_cut_off_is_one_log_line_not_a_traceback(pipeline, caplog):
    """A multipart upload cut by the body timeout logged a full traceback per connection."""
    from starlette.requests import ClientDisconnect

    app = create_app(pipeline.settings, pipeline)

    async def cut_off():
        raise ClientDisconnect()

    app.add_api_route("/cut-off", cut_off, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/cut-off")
    assert answer.status_code == 400 and "cut off" in answer.json()["error"]
    assert any("left before sending the whole body" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)


def test_a_client_cannot_make_the_server_load_a_generator(pipeline):
    """The fuzzer asked for answerer "generate" and the server loaded a language model for a minute."""
    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        refused = client.post("/ask", json={"question": "Tell me about Gwangju.", "answerer": "generate"})
        assert refused.status_code == 400 and "RAG_OPEN_ANSWERER=generate" in refused.json()["error"]
        schema = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]
        assert "generate" not in schema["properties"]["answerer"]["enum"]
