"""Attacks and accidents found by red-teaming the service; each test failed before its fix."""

import contextlib
import socket

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from rag.api.app import create_app
from rag.inputs import validate_question
from rag.errors import RagError
from rag.settings import Settings
from tests.conftest import live_copy

KEY = "k3y"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory, pipeline):
    root = tmp_path_factory.mktemp("attacks")
    with live_copy(pipeline, root, {"RAG_API_KEY": KEY}) as server:
        yield server, root


def raw_request(url: str, payload: bytes) -> bytes:
    """Send bytes as they are, so framing headers reach the server unchanged, and read the reply."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(payload)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_content_length_beside_chunked_framing_is_refused_unread(live):
    server, _ = live
    # The chunked body never ends: a server that reads it before answering never answers (the read times out).
    head = (b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
    reply = raw_request(server.url, head + b"100000\r\n" + b"x" * 4096)
    assert reply.startswith(b"HTTP/1.1 400") and b"both Content-Length and Transfer-Encoding" in reply


def test_an_empty_api_key_is_a_settings_error_not_open_writes():
    with pytest.raises(ValidationError, match="RAG_API_KEY is set but empty"):
        Settings(api_key="")
    with pytest.raises(ValidationError, match="set but empty"):
        Settings(api_key="   ")


def test_serve_with_an_empty_key_refuses_to_start(tmp_path):
    from tests.test_cli import rag

    done = rag("serve", "--port", "1", tmp_path=tmp_path, env={"RAG_API_KEY": ""})
    assert done.returncode == 2 and "RAG_API_KEY is set but empty" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "null"},
])
def test_cross_site_writes_are_refused_even_with_writes_allowed(pipeline, headers):
    settings = pipeline.settings.model_copy(update={"api_key": None, "allow_writes": True})
    with TestClient(create_app(settings, pipeline)) as client:
        response = client.post("/documents", files={"file": ("000_f19b8aa6c8c62442.txt", b"Replaced. " * 20)},
                               headers=headers)
        assert response.status_code == 403 and "cross-site" in response.json()["error"]


def test_same_origin_writes_still_work_with_origin_header(live):
    server, _ = live
    with httpx.Client(base_url=server.url, timeout=60) as client:
        origin = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"} | AUTH
        response = client.post("/documents", json={"doc_id": "same-origin-note", "text": "Note\n\nA short note."},
                               headers=origin)
        assert response.status_code == 201, response.text
        assert client.delete("/documents/same-origin-note", headers=AUTH).status_code == 204


def test_the_host_header_is_checked_when_hosts_are_configured(pipeline):
    settings = pipeline.settings.model_copy(update={"allowed_hosts": "127.0.0.1,localhost"})
    with TestClient(create_app(settings, pipeline), base_url="http://localhost:8000") as client:
        assert client.get("/health").status_code == 200
        response = client.get("/health", headers={"Host": "attacker.example"})
        assert response.status_code == 400 and "Host" in response.json()["error"]


def test_made_up_methods_do_not_grow_the_metrics(pipeline):
    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        for n in range(50):
            client.request(f"BREW{n}", "/ask")
        page = client.get("/metrics").text
        assert "BREW" not in page and 'method="other"' in page


def test_head_of_the_page_is_answered(pipeline):
    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        assert client.head("/").status_code == 200


def test_a_lone_surrogate_is_a_clear_input_error():
    with pytest.raises(RagError, match="surrogate"):
        validate_question("Who is \ud800 the mayor?")


def test_a_lone_surrogate_over_http_is_a_422(pipeline):
    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        response = client.post("/ask", content=b'{"question": "Who is \\ud800?"}',
                               headers={"content-type": "application/json"})
        assert response.status_code == 422 and "surrogate" in response.json()["error"]


def test_a_live_server_indexes_files_dropped_into_its_corpus_and_a_restart_keeps_them(tmp_path, pipeline):
    import time

    env = {"RAG_API_KEY": KEY, "RAG_WATCH_SECONDS": "0.5"}
    with live_copy(pipeline, tmp_path, env) as server:
        (tmp_path / "seeds" / "dropped.txt").write_text(
            "Harbour Tram Opens\n\nThe harbour tram line opened on 4 May with nine stations.\n")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            # An API write meanwhile must not hide the dropped file (it used to re-fingerprint the folder).
            assert client.post("/documents", json={"doc_id": "api-note", "text": "Api Note\n\nA short note."},
                               headers=AUTH).status_code == 201
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "dropped" not in {d["doc_id"] for d in client.get("/documents").json()}:
                time.sleep(0.25)
            assert "dropped" in {d["doc_id"] for d in client.get("/documents").json()}
            answer = client.post("/ask", json={"question": "How many stations does the harbour tram line have?"})
            assert answer.status_code == 200
    from rag.pipeline import Pipeline

    messages = []
    Pipeline.open(Settings(source_dir=tmp_path / "seeds", index_dir=tmp_path / "index"), log=messages.append)
    assert messages == []  # nothing hidden, nothing to redo


def test_half_sent_requests_are_closed_and_connections_are_capped(tmp_path, pipeline):
    import time

    env = {"RAG_HEADER_TIMEOUT": "1", "RAG_BODY_TIMEOUT": "2", "RAG_MAX_CONNECTIONS": "40", "RAG_WATCH_SECONDS": "0"}
    with live_copy(pipeline, tmp_path, env) as server:
        host, port = server.url.removeprefix("http://").split(":")
        slow = []
        for n in range(30):
            connection = socket.create_connection((host, int(port)), timeout=10)
            if n % 2:  # headers never finished
                connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            else:  # headers done, then a body that trickles in a byte at a time
                connection.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: 100\r\n\r\n{")
            slow.append(connection)
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200  # still answering
        for _ in range(6):
            time.sleep(0.5)
            for c in slow[::2]:
                with contextlib.suppress(OSError):  # closed by now, as it should be
                    c.sendall(b" ")  # a byte well inside the header timeout: only the body deadline stops this
        assert all(c.recv(1024) == b"" for c in slow)  # each closed by the server after its timeout
        for c in slow:
            c.close()
        idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(60)]
        time.sleep(0.5)
        closed = 0
        for c in idle:
            c.settimeout(0.2)
            try:
                closed += c.recv(1024) == b""
            except TimeoutError:
                pass
            c.close()
        assert closed >= 20  # past 40 open connections, new ones are closed at once
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        for _ in range(200):  # the same malformed request, again and again
            with socket.create_connection((host, int(port)), timeout=10) as c:
                c.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                c.recv(1024)
    log = (tmp_path / "server.log").read_text()
    assert 1 <= log.count("Invalid HTTP request") <= 40  # a few per second, not one line per request


def test_the_server_keeps_answering_while_a_bomb_upload_is_extracted(live):
    """Extraction runs on a worker with limits checked as it goes: /health answers during it, the upload is a 413."""
    import threading
    import time

    from docx.oxml import OxmlElement

    from rag.ingest.formats import MAX_PARAGRAPHS
    from tests.ingest.test_formats import built_docx

    server, _ = live
    bomb = built_docx(lambda document: [document.element.body.append(OxmlElement("w:p"))
                                        for _ in range(4 * MAX_PARAGRAPHS)])
    upload: dict = {}

    def send():
        upload["response"] = httpx.post(f"{server.url}/documents", files={"file": ("bomb.docx", bomb)}, headers=AUTH,
                                        timeout=120)
        upload["done"] = time.monotonic()

    sender = threading.Thread(target=send)
    sender.start()
    answered = []
    while sender.is_alive():
        assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
        answered.append(time.monotonic())
    sender.join()
    assert upload["response"].status_code == 413 and "paragraphs" in upload["response"].json()["error"]
    assert len([t for t in answered if t < upload["done"]]) >= 3  # health checks answered while it was extracting
