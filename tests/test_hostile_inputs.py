"""Hostile inputs against a live server with auth on: each gets its documented 4xx and a clear message,
and the index and corpus are byte-for-byte unchanged afterwards."""

import hashlib

import httpx
import pytest

from tests.conftest import live_copy

KEY = "hostile-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SEED = "000_f19b8aa6c8c62442"
ARTICLE = "Gwangju Tests\n\nGwangju tested the service with hostile inputs on Monday.\n"


def fifty_megabytes():
    for _ in range(50):
        yield b"x" * 1_000_000


# (what, method, path, request arguments, status, words the error must contain)
CASES = [
    ("empty question", "POST", "/ask", {"json": {"question": ""}}, 422, "question is empty"),
    ("whitespace-only question", "POST", "/ask", {"json": {"question": " \t\n "}}, 422, "question is empty"),
    ("100 kB question", "POST", "/ask", {"json": {"question": "why " * 25_000}}, 422, "longer than 2000"),
    ("control characters", "POST", "/ask", {"json": {"question": "Who\x00 is\x1b[31m mayor?"}}, 422,
     "control character"),
    ("invalid UTF-8 bytes", "POST", "/ask",
     {"content": b'{"question": "\xff\xfe mayor"}', "headers": {"content-type": "application/json"}}, 400, "UTF-8"),
    ("not JSON", "POST", "/ask", {"content": b"question=mayor", "headers": {"content-type": "application/json"}},
     422, "JSON"),
    ("form-encoded question", "POST", "/ask", {"data": {"question": "Who is the mayor?"}}, 415, "application/json"),
    ("question of the wrong type", "POST", "/ask", {"json": {"question": ["Who?"]}}, 422, "question:"),
    ("k of the wrong type", "POST", "/ask", {"json": {"question": "Who?", "k": "five"}}, 422, "k:"),
    ("a JSON list, not an object", "POST", "/ask", {"json": ["Who?"]}, 422, "body"),
    ("huge k", "POST", "/ask", {"json": {"question": "Who?", "k": 10**30}}, 422, "k:"),
    ("negative k", "GET", "/search", {"params": {"q": "mayor", "k": -1}}, 422, "k:"),
    ("unknown answerer", "POST", "/ask", {"json": {"question": "Who?", "answerer": "gpt-9"}}, 400,
     "unknown answerer"),
    ("blank search", "GET", "/search", {"params": {"q": "   "}}, 422, "question is empty"),
    ("traversal in a read", "GET", "/documents/..%2F..%2Fetc%2Fpasswd", {}, 404, "not found"),
    ("absolute path in a read", "GET", "/documents/%2Fetc%2Fpasswd", {}, 404, "not found"),
    ("double-encoded traversal", "GET", "/documents/%252e%252e%252fseeds", {}, 404, "no document"),
    ("traversal in a delete", "DELETE", f"/documents/..%2Fseeds%2F{SEED}", {"headers": AUTH}, 404, "not found"),
    ("traversal in a new id", "POST", "/documents", {"json": {"doc_id": "../escape", "text": ARTICLE},
                                                     "headers": AUTH}, 400, "invalid document id"),
    ("absolute path as id", "POST", "/documents", {"json": {"doc_id": "/etc/cron.d/x", "text": ARTICLE},
                                                   "headers": AUTH}, 400, "invalid document id"),
    ("URL-encoded id", "POST", "/documents", {"json": {"doc_id": "%2e%2e%2fx", "text": ARTICLE},
                                              "headers": AUTH}, 400, "invalid document id"),
    ("0-byte upload", "POST", "/documents", {"files": {"file": ("empty.txt", b"")}, "headers": AUTH}, 400,
     "empty (0 bytes)"),
    ("binary upload", "POST", "/documents",
     {"files": {"file": ("photo.txt", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)},
      "headers": AUTH}, 400, "binary data"),
    ("unsupported type", "POST", "/documents",
     {"files": {"file": ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)},
      "headers": AUTH}, 415, "not a supported type"),
    ("50 MB upload", "POST", "/documents",
     {"content": fifty_megabytes, "headers": AUTH | {"content-type": "application/json"}}, 413, "over 2000000 bytes"),
    ("50 MB upload with its length", "POST", "/documents",
     {"files": {"file": ("big.txt", b"Gwangju. " * 5_600_000)}, "headers": AUTH}, 413, "over 2000000 bytes"),
    ("write without the key", "POST", "/documents", {"json": {"doc_id": "sneaky", "text": ARTICLE}}, 401,
     "Authorization"),
    ("write with a wrong key", "DELETE", f"/documents/{SEED}", {"headers": {"Authorization": "Bearer nope"}}, 401,
     "Authorization"),
    ("JSON nested 50,000 deep", "POST", "/ask", {"content": b'{"question": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
                                               "headers": {"content-type": "application/json"}}, 400, "cannot be parsed"),
    ("SQL in a document filter", "POST", "/ask",
     {"json": {"question": "Who is the mayor?", "doc_ids": ["x'); DROP TABLE rag_chunks;--"]}}, 404, "no document"),
    ("SQL in a read", "GET", "/documents/x%27%20OR%20%271%27%3D%271", {}, 404, "no document"),
    ("SQL in a new id", "POST", "/documents", {"json": {"doc_id": "x';DROP TABLE rag_documents;--", "text": ARTICLE},
                                              "headers": AUTH}, 400, "invalid document id"),
    ("infinite k", "POST", "/ask", {"content": b'{"question": "Who?", "k": 1e400}',
                                    "headers": {"content-type": "application/json"}}, 422, "finite"),
    ("removing every document", "DELETE", None, {"headers": AUTH}, 409, "last document"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, pipeline):
    root = tmp_path_factory.mktemp("hostile")
    with live_copy(pipeline, root, {"RAG_API_KEY": KEY}) as server:
        yield server, root


def snapshot(root) -> dict[str, str]:
    """Every file of the corpus and the index, by content."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in (".lock", "server.log")}


@pytest.mark.parametrize("what, method, path, arguments, status, message", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_gets_a_clear_4xx_and_changes_nothing(server, what, method, path, arguments, status, message):
    live, root = server
    before = snapshot(root)
    arguments = dict(arguments)
    if callable(arguments.get("content")):
        arguments["content"] = arguments["content"]()
    with httpx.Client(base_url=live.url, timeout=60) as client:
        if path is None:  # remove documents until the server refuses to remove the last one
            ids = [d["doc_id"] for d in client.get("/documents").json()]
            for doc_id in ids[:-1]:
                assert client.delete(f"/documents/{doc_id}", **arguments).status_code == 204
            before = snapshot(root)
            path = f"/documents/{ids[-1]}"
        response = client.request(method, path, **arguments)
        assert response.status_code == status, response.text
        assert message in response.json()["error"], response.json()
        assert client.get("/health").json()["status"] == "ok"
    assert snapshot(root) == before


def long_question(length: int) -> str:
    """Filler sentences, then the question: a valid question of `length` characters."""
    asked = " Who is the president of Zhejiang University?"
    return ("Filler sentence about nothing much. " * 60)[: length - len(asked)] + asked


@pytest.mark.parametrize("length", [1350, 1999, 2000])
@pytest.mark.parametrize("path", ["/ask", "/ask/stream", "/v1/chat/completions"])
def test_a_long_valid_question_is_answered_on_every_route(server, length, path):
    """Questions up to the documented 2,000 characters once crashed the reader's tokenizer (a 500)."""
    live, _ = server
    question = long_question(length)
    assert len(question) == length
    body = ({"model": "rag-news", "messages": [{"role": "user", "content": question}]}
            if path.startswith("/v1") else {"question": question})
    with httpx.Client(base_url=live.url, timeout=60) as client:
        response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    assert "Traceback" not in response.text and "error" not in response.text[:200]
