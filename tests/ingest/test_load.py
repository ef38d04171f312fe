"""Articles' metadata (published date, source URL, byline) where the file gives it, and the date filters."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from rag.errors import RagError
from rag.ingest.load import document_from_text, read_document
from tests.ingest.test_formats import BODY, HTML, TITLE, built_docx

MARKDOWN = f"""---
title: ignored, the heading is the title
date: 2025-03-04
author: "Kim Ha-eun"
url: https://news.example/busan-port
---
# {TITLE}

{BODY}
"""


def test_markdown_front_matter_is_metadata_not_article_text():
    document = document_from_text("port", MARKDOWN)
    assert document.meta == {"published": "2025-03-04", "url": "https://news.example/busan-port",
                             "byline": "Kim Ha-eun"}
    assert document.title == TITLE
    body = " ".join(document.text[b.start : b.end] for b in document.blocks)
    assert "Kim Ha-eun" not in body and "2025-03-04" not in body and BODY in body


def test_html_meta_tags_and_docx_core_properties_give_metadata(tmp_path):
    tags = ('<meta name="author" content="Park Seon-gang"><meta property="article:published_time" '
            'content="2024-11-20T08:00:00+09:00"><link rel="canonical" href="https://news.example/port">')
    (tmp_path / "port.html").write_text(HTML.replace("</title>", "</title>" + tags))
    assert read_document(tmp_path / "port.html").meta == {"published": "2024-11-20", "url": "https://news.example/port",
                                                          "byline": "Park Seon-gang"}

    def build(document):
        document.core_properties.author = "Lee Min-ji"
        document.core_properties.created = dt.datetime(2023, 5, 6, 9, 0)
        document.add_paragraph(TITLE)
        document.add_paragraph(BODY)

    (tmp_path / "port.docx").write_bytes(built_docx(build))
    assert read_document(tmp_path / "port.docx").meta == {"published": "2023-05-06", "byline": "Lee Min-ji"}
    (tmp_path / "plain.txt").write_text(f"{TITLE}\n\n{BODY}\n")
    assert read_document(tmp_path / "plain.txt").meta == {}


def dated(day: str | None, city: str) -> str:
    matter = f"---\ndate: {day}\n---\n" if day else ""
    return (f"{matter}# {city} opens a robotics port\n\nThe city of {city} announced on Monday that its robotics port "
            f"will open in 2031 and employ 1,400 engineers. The port of {city} will cost 3.2 trillion won.\n")


@pytest.fixture(scope="module")
def dated_pipeline(tmp_path_factory):
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("dated")
    (root / "corpus").mkdir()
    for name, day, city in (("old", "2023-02-01", "Busan"), ("new", "2025-06-01", "Ulsan"), ("undated", None, "Mokpo")):
        (root / "corpus" / f"{name}.md").write_text(dated(day, city))
    return Pipeline.open(Settings(source_dir=root / "corpus", index_dir=root / "index"), log=lambda m: None)


def cited(result) -> set[str]:
    """The documents the question's passages came from."""
    return set(result.retrieved)


@pytest.mark.slow
def test_since_and_until_filter_by_published_date_and_undated_documents_follow_the_setting(dated_pipeline):
    question = "How much will the robotics port cost?"
    everything = dated_pipeline.ask(question, k=3)
    assert cited(everything) == {"old", "new", "undated"}
    assert cited(dated_pipeline.ask(question, k=3, since="2024-01-01")) == {"new", "undated"}
    assert cited(dated_pipeline.ask(question, k=3, until=dt.date(2024, 1, 1))) == {"old", "undated"}
    answered = dated_pipeline.ask(question, k=3, since="2025-06-01", until="2025-06-01")
    assert answered.citations and {c.published for c in answered.citations + answered.passages} <= {"2025-06-01", None}
    strict = dated_pipeline.settings.model_copy(update={"undated": "exclude"})
    dated_pipeline.settings, before = strict, dated_pipeline.settings
    try:
        assert cited(dated_pipeline.ask(question, k=3, since="2024-01-01")) == {"new"}
        nothing = dated_pipeline.ask(question, since="2030-01-01")
        assert nothing.abstained and nothing.reason == "no indexed article was published since 2030-01-01"
    finally:
        dated_pipeline.settings = before


@pytest.mark.slow
def test_the_api_takes_since_and_until_and_lists_dates(dated_pipeline):
    from rag.api.app import create_app

    with TestClient(create_app(dated_pipeline.settings, dated_pipeline)) as client:
        body = client.post("/ask", json={"question": "How much will the robotics port cost?", "since": "2025-01-01"})
        assert body.status_code == 200 and body.json()["citations"][0]["doc_id"] in {"new", "undated"}
        assert client.post("/ask", json={"question": "Who?", "since": "last week"}).status_code == 422
        reversed_period = client.post("/ask", json={"question": "Who?", "since": "2025-06-01", "until": "2024-01-01"})
        assert reversed_period.status_code == 422 and "later than until" in reversed_period.text
        listed = {d["doc_id"]: d.get("published") for d in client.get("/documents").json()}
        assert listed == {"old": "2023-02-01", "new": "2025-06-01", "undated": None}


@pytest.mark.slow
def test_a_date_filter_that_hides_the_answer_says_so(dated_pipeline):
    """--since that excludes the only matching article once said "not in the indexed articles"."""
    port = dated_pipeline.ask("What did Busan's port authority report?", k=1, until="2022-12-31")
    assert port.abstained and "excluded" in port.reason and "old" in port.reason
    with pytest.raises(RagError, match="later than until"):
        dated_pipeline.ask("Who?", since="2025-06-01", until="2024-01-01")


def test_a_sidecar_gives_any_file_metadata_and_editing_it_reindexes_the_article(tmp_path):
    from rag.ingest.load import corpus_hashes, load_corpus

    (tmp_path / "port.txt").write_text(f"{TITLE}\n\n{BODY}\n")
    (tmp_path / "port.txt.meta.json").write_text('{"published": "2025-03-04T10:00:00", "source": "https://x.example/p"}')
    logged = []
    [document] = load_corpus(tmp_path, logged.append)
    assert document.meta == {"published": "2025-03-04", "url": "https://x.example/p"} and logged == []
    before = corpus_hashes(tmp_path)
    (tmp_path / "port.txt.meta.json").write_text('{"published": "2025-03-05"}')
    assert corpus_hashes(tmp_path)["port.txt"] != before["port.txt"]  # the next sync re-reads the article
    (tmp_path / "port.txt.meta.json").write_text('["not", "an", "object"]')
    with pytest.raises(RagError, match="must hold a JSON object"):
        read_document(tmp_path / "port.txt")


def test_an_unreadable_file_is_skipped_with_its_reason_and_stops_nothing(tmp_path, monkeypatch):
    """A chmod-000 file once stopped the folder watcher and every later start ("Permission denied"). Tests run as
    root, who reads any file, so reading it is made to fail as it does for everyone else."""
    from pathlib import Path

    from rag.ingest.load import corpus_hashes, load_corpus

    (tmp_path / "good.txt").write_text("Good news\n\nThe city opened a library on Monday.\n")
    (tmp_path / "locked.txt").write_text("Locked\n\nNobody can read this.\n")
    real = Path.read_bytes

    def read_bytes(path):
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    hashes = corpus_hashes(tmp_path)
    assert hashes["locked.txt"] == "unreadable: Permission denied" and len(hashes["good.txt"]) == 64
    said = []
    assert [d.doc_id for d in load_corpus(tmp_path, said.append)] == ["good"]
    assert any("locked.txt" in line and "cannot read" in line for line in said)


def test_links_out_of_the_corpus_and_huge_files_are_skipped(tmp_path, monkeypatch):
    from rag.ingest import load

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Good news\n\nThe city opened a library on Monday.\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret\n\nThe password is hunter2.\n")
    (corpus / "leak.txt").symlink_to(secret)
    (corpus / "inside.txt").symlink_to(corpus / "good.txt")  # a link within the folder is an article
    said = []
    ids = sorted(d.doc_id for d in load.load_corpus(corpus, said.append))
    assert ids == ["good", "inside"] and any("leak.txt" in line and "outside" in line for line in said)
    assert "leak.txt" not in load.corpus_hashes(corpus)
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 10)
    with pytest.raises(RagError, match="over the 10"):
        load.read_document(corpus / "good.txt")


def test_metadata_from_any_source_is_printable_and_bounded():
    """A NUL in a byline was a 500 on PostgreSQL; front matter carried a 300 kB url past the API's limits."""
    from rag.ingest.load import front_matter, tidy_meta

    assert tidy_meta({"byline": "Lee\x00 Min-ji\x1b[31m", "url": "https://example.com/a"}) == {
        "byline": "Lee Min-ji[31m", "url": "https://example.com/a"}
    huge = "---\nurl: https://example.com/" + "a" * 300_000 + "\nauthor: Kim\n---\n# Title\n\nBody.\n"
    assert front_matter(huge) == {"byline": "Kim"}


def test_the_default_corpus_is_a_copy_of_the_samples_so_writes_never_touch_the_checkout(tmp_path, monkeypatch):
    """Uploads and their sidecars went into seeds/, and the page's delete removed tracked seed files."""
    import shutil

    from rag.ingest.load import sample_corpus
    from rag.settings import Settings
    from tests.conftest import SEEDS

    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    said = []
    sample_corpus(Settings(), said.append)
    copied = sorted(p.name for p in (tmp_path / "data" / "articles").iterdir())
    assert copied == sorted(p.name for p in SEEDS.iterdir()) and "copied the sample articles" in said[0]
    (tmp_path / "data" / "articles" / copied[0]).unlink()  # a deletion there leaves seeds/ whole
    sample_corpus(Settings(), said.append)  # once made, the folder is the user's: never refilled
    assert len(said) == 1 and len(list((tmp_path / "seeds").iterdir())) == len(copied)
    sample_corpus(Settings(source_dir=tmp_path / "mine"), said.append)  # a folder the user names is left alone
    assert not (tmp_path / "mine").exists()
