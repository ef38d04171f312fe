"""Extraction in a child process (rag/ingest/sandbox.py): a file whose parsing runs too long or needs too much
memory is refused with its reason, and the caller is free at once; the child comes back for the next file."""

import time

import pytest

from rag.errors import RagError, TooLong
from rag.ingest import sandbox

ARTICLE = (b"<html><head><title>Library opens</title></head><body><article><h1>Library opens</h1><p>"
           + b"The city opened a library on Monday. " * 20 + b"</p></article></body></html>")


def test_an_article_is_extracted_in_the_child():
    text, meta = sandbox.converted("library.html", ARTICLE)
    assert "The city opened a library on Monday." in text and isinstance(meta, dict)


def test_a_parse_over_the_time_limit_is_killed_and_refused(monkeypatch):
    """50,000 inline tags: trafilatura's time grows with their square (81 s once, holding a server worker)."""
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.5)
    bomb = b"<html><body><p>" + b"<b>a</b>" * 50_000 + b"</p></body></html>"
    started = time.monotonic()
    with pytest.raises(TooLong, match="took over"):
        sandbox.converted("bomb.html", bomb)
    assert time.monotonic() - started < 5
    assert "library" in sandbox.converted("again.html", ARTICLE)[0]  # a new child serves the next file


@pytest.mark.slow
def test_a_parse_over_the_memory_limit_is_refused(monkeypatch):
    monkeypatch.setattr(sandbox, "MAX_MEMORY_BYTES", 100_000_000)  # 3.6 MB of paragraphs needs more to parse
    sandbox._EXTRACTOR._stop()
    big = b"<html><body>" + b"<p>The city opened a library on Monday and it was busy. </p>" * 60_000 + b"</body></html>"
    try:
        with pytest.raises(TooLong, match="memory"):
            sandbox.converted("memory.html", big)
        assert "library" in sandbox.converted("after.html", ARTICLE + b"  ")[0]  # a new child serves the next
    finally:
        sandbox._EXTRACTOR._stop()  # the next test's child gets the real limit


def test_a_damaged_file_is_a_plain_error_not_a_limit():
    with pytest.raises(RagError, match="cannot read this PDF") as raised:
        sandbox.converted("broken.pdf", b"%PDF-1.4 not really")
    assert not isinstance(raised.value, TooLong)
