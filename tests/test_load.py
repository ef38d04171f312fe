import pytest

from rag.errors import RagError
from rag.load import corpus_fingerprint, load_corpus, read_document


def test_doc_ids_are_file_names(corpus):
    ids = [d.doc_id for d in load_corpus(corpus)]
    assert ids == sorted(p.stem for p in corpus.glob("*.txt"))
    assert "002_a41762f22f1f4beb" in ids


def test_markdown_is_read_and_other_files_ignored(corpus):
    (corpus / "extra.md").write_text("# Notes\n\nGwangju opened a new AI library in 2031.\n", encoding="utf-8")
    (corpus / "image.png").write_bytes(b"\x89PNG")
    ids = [d.doc_id for d in load_corpus(corpus)]
    assert "extra" in ids and "image" not in ids


def test_fingerprint_changes_with_any_edit(corpus):
    before = corpus_fingerprint(corpus)
    path = next(corpus.glob("*.txt"))
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert corpus_fingerprint(corpus) != before


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(RagError, match="corpus folder not found"):
        load_corpus(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RagError, match="no .txt or .md files"):
        load_corpus(empty)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 au lait")
    with pytest.raises(RagError, match="not valid UTF-8"):
        read_document(bad)
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n", encoding="utf-8")
    with pytest.raises(RagError, match="empty"):
        read_document(blank)
