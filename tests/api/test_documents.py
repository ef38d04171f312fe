"""Adding and removing documents over HTTP, on a private copy of the corpus."""

import os
import shutil
import threading

import pytest
from fastapi.testclient import TestClient

from rag.api.app import create_app
from rag.index.faiss.persist import load
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.conftest import SEEDS

NEW_DOC = ("Gwangju Opens the Mudeung AI Observatory\n\n"
           "Gwangju opened the Mudeung AI Observatory on March 3, 2031. "
           "The observatory cost 77.7 billion won and was designed by architect Seo Harin.\n")
QUESTION = "How much did the Mudeung AI Observatory cost?"
KEY = "s3cret-key"
QUESTION_URL = "/ask"


@pytest.fixture(scope="module")
def writable(tmp_path_factory):
    root = tmp_path_factory.mktemp("writable")
    shutil.copytree(SEEDS, root / "seeds")
    settings = Settings(source_dir=root / "seeds", index_dir=root / "index", api_key=KEY)
    return settings, Pipeline.open(settings, log=lambda m: None)


@pytest.fixture(scope="module")
def client(writable):
    settings, pipeline = writable
    with TestClient(create_app(settings, pipeline)) as client:
        yield client


AUTH = {"Authorization": f"Bearer {KEY}"}


def test_writes_need_the_key_when_one_is_set(client):
    body = {"doc_id": "x", "text": NEW_DOC}
    assert client.post("/documents", json=body).status_code == 401
    assert client.post("/documents", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.delete("/documents/000_f19b8aa6c8c62442").status_code == 401
    assert client.get("/documents").status_code == 200  # reads stay open


def test_writes_are_disabled_without_key_or_flag(pipeline):
    settings = pipeline.settings.model_copy(update={"api_key": None, "allow_writes": False})
    with TestClient(create_app(settings, pipeline)) as closed:
        response = closed.post("/documents", json={"doc_id": "x", "text": NEW_DOC})
        assert response.status_code == 403 and "--allow-writes" in response.json()["error"]


def test_add_ask_delete_ask(client, writable):
    settings, _ = writable
    assert client.post(QUESTION_URL, json={"question": QUESTION}).json()["abstained"]
    added = client.post("/documents", json={"doc_id": "observatory", "text": NEW_DOC}, headers=AUTH)
    assert added.status_code == 201 and added.json()["title"] == "Gwangju Opens the Mudeung AI Observatory"
    assert (settings.source_dir / "observatory.txt").read_text(encoding="utf-8") == NEW_DOC

    # The rules keep the unit after a number; the neural reader answers "77.7 billion" (a known weakness).
    body = client.post(QUESTION_URL, json={"question": QUESTION, "answerer": "rules"}).json()
    assert body["answer"].startswith("77.7 billion won") and body["citations"][0]["doc_id"] == "observatory"
    assert "observatory" in load(settings.index_dir).documents  # persisted, not only in memory

    assert client.delete("/documents/observatory", headers=AUTH).status_code == 204
    assert not (settings.source_dir / "observatory.txt").exists()
    body = client.post(QUESTION_URL, json={"question": QUESTION}).json()
    assert all(c["doc_id"] != "observatory" for c in body["citations"] + body["passages"])
    assert client.delete("/documents/observatory", headers=AUTH).status_code == 404


def test_added_document_survives_a_restart_without_a_rebuild(client, writable):
    settings, _ = writable
    assert client.post("/documents", json={"doc_id": "kept", "text": NEW_DOC}, headers=AUTH).status_code == 201
    messages = []
    restarted = Pipeline.open(settings, log=messages.append)
    assert messages == [] and "kept" in restarted.store.documents
    assert restarted.ask(QUESTION).citations[0].doc_id == "kept"
    assert client.delete("/documents/kept", headers=AUTH).status_code == 204


def test_questions_keep_working_while_a_document_is_added(client):
    failures, answers = [], []

    def ask_repeatedly():
        for _ in range(5):
            response = client.post(QUESTION_URL, json={"question": "Who is the mayor of Hangzhou?", "answerer": "rules"})
            (answers if response.status_code == 200 else failures).append(response)

    threads = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    for thread in threads:
        thread.start()
    assert client.post("/documents", json={"doc_id": "during", "text": NEW_DOC}, headers=AUTH).status_code == 201
    for thread in threads:
        thread.join()
    assert not failures and all(r.json()["answer"].startswith("Yao Gaoyuan") for r in answers)
    assert client.delete("/documents/during", headers=AUTH).status_code == 204


@pytest.mark.parametrize(
    "body, status",
    [
        ({"doc_id": "../escape", "text": NEW_DOC}, 400),
        ({"doc_id": "/etc/passwd", "text": NEW_DOC}, 400),
        ({"doc_id": ".hidden", "text": NEW_DOC}, 400),
        ({"doc_id": "blank", "text": "   \n"}, 400),
        ({"doc_id": "empty", "text": ""}, 422),
        ({"doc_id": "nobody"}, 422),
    ],
)
def test_bad_documents_are_refused_and_change_nothing(client, writable, body, status):
    settings, pipeline = writable
    before = sorted(pipeline.store.documents)
    response = client.post("/documents", json=body, headers=AUTH)
    assert response.status_code == status and response.json()["error"]
    assert sorted(pipeline.store.documents) == before
    assert sorted(p.stem for p in settings.source_dir.iterdir()) == before


def test_oversize_body_is_refused(client):
    response = client.post("/documents", json={"doc_id": "big", "text": "x" * 2_100_000}, headers=AUTH)
    assert response.status_code == 413 and "bytes" in response.json()["error"]



def test_file_upload_adds_a_document_named_after_the_file(client, writable):
    settings, _ = writable
    upload = {"file": ("uploaded-observatory.txt", NEW_DOC.encode("utf-8"), "text/plain")}
    response = client.post("/documents", files=upload, headers=AUTH)
    assert response.status_code == 201 and response.json()["doc_id"] == "uploaded-observatory"
    body = client.post(QUESTION_URL, json={"question": QUESTION}).json()
    assert body["citations"][0]["doc_id"] == "uploaded-observatory"
    renamed = client.post("/documents", files=upload, data={"doc_id": "renamed"}, headers=AUTH)
    assert renamed.json()["doc_id"] == "renamed"
    for doc_id in ("uploaded-observatory", "renamed"):
        assert client.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 204


def test_metadata_given_with_a_document_is_shown_kept_beside_its_file_and_found_by_a_rebuild(client, writable):
    settings, _ = writable
    meta = {"published": "2031-03-04", "url": "https://news.example/observatory", "byline": "Seo Harin"}
    added = client.post("/documents", json={"doc_id": "dated", "text": NEW_DOC, **meta}, headers=AUTH)
    assert added.status_code == 201 and {k: added.json()[k] for k in meta} == meta
    body = client.post(QUESTION_URL, json={"question": QUESTION, "since": "2031-01-01"}).json()
    assert body["citations"] and all(c["doc_id"] == "dated" and c["published"] == "2031-03-04" for c in body["citations"])
    assert (settings.source_dir / "dated.txt.meta.json").exists()
    rebuilt = Pipeline.open(settings.model_copy(update={"index_dir": settings.index_dir.parent / "rebuilt"}),
                            log=lambda m: None)
    assert rebuilt.store.documents["dated"].meta == meta

    upload = {"file": ("dated-upload.txt", NEW_DOC.encode("utf-8"), "text/plain")}
    uploaded = client.post("/documents", files=upload, data={"byline": "Kim Minji"}, headers=AUTH)
    assert uploaded.status_code == 201 and uploaded.json()["byline"] == "Kim Minji"
    for doc_id, name in (("dated", "dated.txt"), ("dated-upload", "dated-upload.txt")):
        assert client.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 204
        assert not (settings.source_dir / f"{name}.meta.json").exists()  # no stale metadata for a later file


@pytest.mark.parametrize("meta, says", [({"published": "March 2031"}, "published"), ({"url": "x" * 3000}, "url"),
                                        ({"editor": "Kim"}, "editor")])
def test_bad_metadata_is_refused_and_changes_nothing(client, writable, meta, says):
    settings, pipeline = writable
    response = client.post("/documents", json={"doc_id": "undated", "text": NEW_DOC, **meta}, headers=AUTH)
    assert response.status_code == 422 and says in response.json()["error"]
    upload = {"file": ("undated.txt", NEW_DOC.encode("utf-8"), "text/plain")}
    if "editor" not in meta:  # an unknown form field is ignored, like any other extra part
        response = client.post("/documents", files=upload, data=meta, headers=AUTH)
        assert response.status_code == 422 and says in response.json()["error"]
    assert "undated" not in pipeline.store.documents and not (settings.source_dir / "undated.txt").exists()


@pytest.mark.parametrize(
    "name, payload, status, message",
    [
        ("empty.txt", b"", 400, "empty (0 bytes)"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 415, "not a supported type"),
        ("figures.csv", b"city,budget\nGwangju,62.6\n", 415, ".txt, .md, .html, .htm, .pdf, .docx"),
        ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 400, "binary data"),
        ("nul.txt", b"Gwangju\x00opened", 400, "NUL"),
        ("../../etc/passwd", NEW_DOC.encode(), 201, None),  # the file name's directories are dropped
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(client, writable, name, payload, status, message):
    settings, pipeline = writable
    before = sorted(pipeline.store.documents)
    response = client.post("/documents", files={"file": (name, payload)}, headers=AUTH)
    assert response.status_code == status, response.text
    if message:
        assert message in response.json()["error"]
        assert sorted(pipeline.store.documents) == before
    else:
        assert response.json()["doc_id"] == "passwd" and (settings.source_dir / "passwd.txt").is_file()
        assert client.delete("/documents/passwd", headers=AUTH).status_code == 204
    assert sorted(p.stem for p in settings.source_dir.iterdir()) == before


def test_a_latin1_upload_is_decoded_not_refused(client):
    text = "Caf\u00e9 Opens in Gwangju\n\nThe caf\u00e9 near the station opened on Monday, its owner said.\n"
    response = client.post("/documents", files={"file": ("latin1-cafe.txt", text.encode("latin-1"))}, headers=AUTH)
    assert response.status_code == 201, response.text
    assert client.get("/documents/latin1-cafe").json()["text"] == text
    assert client.delete("/documents/latin1-cafe", headers=AUTH).status_code == 204


def test_other_content_types_and_missing_file_part(client):
    assert client.post("/documents", content=NEW_DOC, headers=AUTH | {"content-type": "text/plain"}).status_code == 415
    response = client.post("/documents", data={"doc_id": "x"}, files={"other": ("a.txt", b"x")}, headers=AUTH)
    assert response.status_code == 422 and "'file'" in response.json()["error"]


def test_chunked_body_without_length_is_cut_off_at_the_limit(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 100_000

    response = client.post("/documents", content=chunks(), headers=AUTH | {"content-type": "application/json"})
    assert response.status_code == 413


def test_a_full_disk_answers_507_and_leaves_nothing_behind(client, writable, monkeypatch):
    import errno

    from rag.index.faiss import persist as index

    settings, pipeline = writable
    files_before = sorted(p.name for p in settings.source_dir.iterdir())
    index_before = sorted(p.name for p in settings.index_dir.iterdir())
    original = (settings.source_dir / "000_f19b8aa6c8c62442.txt").read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index.faiss, "write_index", full)
    for doc_id in ("disk-full-new", "000_f19b8aa6c8c62442"):  # a new document, then a replacement
        response = client.post("/documents", json={"doc_id": doc_id, "text": NEW_DOC}, headers=AUTH)
        assert response.status_code == 507 and "disk is full" in response.json()["error"]
    assert sorted(p.name for p in settings.source_dir.iterdir()) == files_before
    assert sorted(p.name for p in settings.index_dir.iterdir()) == index_before
    assert (settings.source_dir / "000_f19b8aa6c8c62442.txt").read_bytes() == original
    assert "disk-full-new" not in pipeline.store.documents
    assert client.post("/ask", json={"question": "Who is the president of Zhejiang University?"}).status_code == 200


def test_a_document_over_the_size_limit_is_a_413_with_the_limit(client):
    from rag.ingest.load import MAX_DOCUMENT_CHARS

    text = "Huge\n\n" + "Gwangju grows. " * (MAX_DOCUMENT_CHARS // 15 + 1)
    response = client.post("/documents", json={"doc_id": "huge", "text": text}, headers=AUTH)
    assert response.status_code == 413 and "500,000" in response.json()["error"]


@pytest.mark.slow  # kept out of `make check`: seconds each (a subprocess or many writes)
def test_asks_racing_adds_replaces_and_deletes_never_fail_or_misquote(client):
    """Three clients ask about one document while a fourth adds, replaces and deletes it, over and over."""
    import time

    versions = [
        "Harbour Museum Opens\n\nThe harbour museum cost 41.5 billion won and opened in May.\n",
        "Harbour Museum Opens Again\n\nAfter repairs, the harbour museum, which cost 44 billion won in all, "
        "reopened to visitors on a Tuesday in the rainy month of July.\n",
    ]
    question = "How much did the harbour museum cost?"
    failures, citations, stop = [], [], threading.Event()

    def ask_repeatedly():
        while not stop.is_set():
            response = client.post(QUESTION_URL, json={"question": question, "k": 3})
            if response.status_code != 200:
                failures.append(response.text)
            else:
                citations.extend(c for c in response.json()["citations"] if c["doc_id"] == "museum")

    askers = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    for thread in askers:
        thread.start()
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        for n, text in enumerate(versions):  # added, then replaced
            response = client.post("/documents", json={"doc_id": "museum", "text": text}, headers=AUTH)
            assert response.status_code == (201, 200)[n > 0] and response.json()["replaced"] == (n > 0)
        assert client.delete("/documents/museum", headers=AUTH).status_code == 204
    stop.set()
    for thread in askers:
        thread.join()
    assert not failures, failures[:3]
    assert citations  # the race was exercised
    for citation in citations:  # each quote is exactly what one version holds at the cited offsets
        assert citation["quote"] and any(v[citation["start"] : citation["end"]] == citation["quote"] for v in versions)


def test_a_docx_upload_is_extracted_and_answerable(client, writable):
    from tests.ingest.test_formats import BODY, docx_bytes

    settings, pipeline = writable
    original = docx_bytes(["Port report", BODY])
    response = client.post("/documents", files={"file": ("port-report.docx", original)}, headers=AUTH)
    assert response.status_code == 201 and response.json()["replaced"] is False, response.text
    # The upload is kept as it came (the text is derived from it), and the index knows the file as it is.
    assert (settings.source_dir / "port-report.docx").read_bytes() == original
    assert not (settings.source_dir / "port-report.txt").exists() and not pipeline.sync()
    response = client.post("/documents", files={"file": ("port-report.docx", original)}, headers=AUTH)
    assert response.status_code == 200 and response.json()["replaced"] is True
    assert "3.2 trillion won" in client.get("/documents/port-report").json()["text"]
    answer = client.post("/ask", json={"question": "How many engineers will the Busan port employ?",
                                        "doc_ids": ["port-report"]}).json()
    assert answer["answer"].startswith("1,400") and answer["citations"][0]["doc_id"] == "port-report"
    assert client.delete("/documents/port-report", headers=AUTH).status_code == 204


def test_a_delete_on_a_full_disk_keeps_the_document_and_its_file(client, writable, monkeypatch):
    import errno

    from rag.index.faiss import persist as index

    settings, pipeline = writable
    assert client.post("/documents", json={"doc_id": "kept-on-full-disk", "text": NEW_DOC},
                       headers=AUTH).status_code == 201
    files_before = sorted(p.name for p in settings.source_dir.iterdir())

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index.faiss, "write_index", full)
    response = client.delete("/documents/kept-on-full-disk", headers=AUTH)
    assert response.status_code == 507
    assert sorted(p.name for p in settings.source_dir.iterdir()) == files_before
    assert (settings.source_dir / "kept-on-full-disk.txt").read_text() == NEW_DOC
    assert "kept-on-full-disk" in pipeline.store.documents
    monkeypatch.undo()
    assert client.delete("/documents/kept-on-full-disk", headers=AUTH).status_code == 204
    assert not (settings.source_dir / "kept-on-full-disk.txt").exists()
    assert "kept-on-full-disk" not in pipeline.store.documents


def test_a_new_id_never_takes_over_a_file_of_another_document(tmp_path):
    """alpha.txt and alpha.md are documents 'alpha.txt' and 'alpha.md'; writing 'alpha' would overwrite alpha.txt."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "seeds" / "alpha.txt").write_text("Alpha\n\nThe alpha plant makes 12 robots a day.\n")
    (tmp_path / "seeds" / "alpha.md").write_text("# Alpha\n\nThe alpha lab has 40 engineers.\n")
    settings = Settings(source_dir=tmp_path / "seeds", index_dir=tmp_path / "index", allow_writes=True)
    pipeline = Pipeline.open(settings, log=lambda m: None)
    assert {"alpha.txt", "alpha.md"} <= set(pipeline.store.documents)
    with TestClient(create_app(settings, pipeline)) as client:
        response = client.post("/documents", json={"doc_id": "alpha", "text": NEW_DOC})
        assert response.status_code == 409 and "alpha.txt" in response.json()["error"]
        assert (tmp_path / "seeds" / "alpha.txt").read_text().startswith("Alpha")
        assert client.post("/documents", json={"doc_id": "alpha.txt", "text": NEW_DOC}).status_code == 200

    # An API document keeps its id when a file with its stem is put beside it, through a sync and a rebuild.
    pipeline.add_document("gamma", NEW_DOC)
    (tmp_path / "seeds" / "gamma.md").write_text("# Gamma\n\nThe gamma fund holds 9 billion won.\n")
    assert pipeline.sync()
    for store in (pipeline.store, Pipeline.open(settings, rebuild=True, log=lambda m: None).store):
        assert os.path.basename(store.documents["gamma"].path) == "gamma.txt"
        assert os.path.basename(store.documents["gamma.md"].path) == "gamma.md"
