import pytest

from rag.errors import RagError
from rag.index.faiss.build import stale_reason
from rag.index.faiss.persist import load
from rag.pipeline import Pipeline
from rag.settings import Settings


def open_quietly(settings, messages, **kwargs):
    return Pipeline.open(settings, log=messages.append, **kwargs)


def test_an_edited_file_is_reindexed_on_its_own(corpus, tmp_path):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    messages = []
    first = open_quietly(settings, messages)
    assert "no index" in messages[-2]
    messages.clear()
    open_quietly(settings, messages)
    assert messages == []  # fresh index: loaded, not rebuilt

    path = corpus / "002_a41762f22f1f4beb.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("62.6 billion KRW", "99.9 billion KRW"), encoding="utf-8")
    assert stale_reason(first.store, settings, first.embedder) is None  # no full rebuild: one file changed
    rebuilt = open_quietly(settings, messages)
    assert "1 file(s) added or changed, 0 removed; 5 documents" in messages[0]
    unchanged = [c.id for c in first.store.chunks if c.doc_id != "002_a41762f22f1f4beb"]
    assert [c.id for c in rebuilt.store.chunks][: len(unchanged)] == unchanged  # the others were kept, not redone
    assert rebuilt.ask("How much national budget did Gwangju secure this year?").answer.startswith("99.9 billion")


def test_changed_chunk_setting_makes_the_index_stale(corpus, tmp_path):
    messages = []
    open_quietly(Settings(source_dir=corpus, index_dir=tmp_path / "index"), messages)
    messages.clear()
    open_quietly(Settings(source_dir=corpus, index_dir=tmp_path / "index", chunk_tokens=64), messages)
    assert "chunk_tokens" in messages[0]
    assert load(tmp_path / "index").manifest["chunk_tokens"] == 64


def test_damaged_index_is_rebuilt_not_crashed_on(corpus, tmp_path):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    messages = []
    open_quietly(settings, messages)
    generation = settings.index_dir / (settings.index_dir / "CURRENT").read_text()
    (generation / "vectors.faiss").write_bytes(b"garbage")
    messages.clear()
    pipeline = open_quietly(settings, messages)
    assert "damaged" in messages[0] or "cannot be read" in messages[0]
    assert pipeline.store.vectors.ntotal == len(pipeline.store.chunks) > 0


def test_result_has_timings_for_every_stage(pipeline):
    result = pipeline.ask("How many Korean students are enrolled at Zhejiang University?")
    assert set(result.timings_ms) == {"retrieve", "answer", "total"}
    assert result.timings_ms["total"] >= result.timings_ms["retrieve"]


def test_a_bad_file_is_skipped_with_its_reason_and_the_rest_is_indexed(corpus, tmp_path):
    (corpus / "broken.txt").write_text("Only A Headline\n")  # nothing but a title: no article text
    (corpus / "picture.png").write_bytes(b"\x89PNG")
    (corpus / "latin.txt").write_bytes("Caf\u00e9 Opens\n\nThe caf\u00e9 opened on Monday in Gwangju.\n".encode("latin-1"))
    messages = []
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    pipeline = Pipeline.open(settings, log=messages.append)
    assert "latin" in pipeline.store.documents and "broken" not in pipeline.store.documents
    assert pipeline.store.documents["latin"].text.startswith("Caf\u00e9 Opens")
    assert any(m.startswith("skipped broken.txt: ") and "no article text" in m for m in messages)
    assert any("picture.png" in m and "of other types" in m for m in messages)


def test_nothing_indexable_is_one_error(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("")
    with pytest.raises(RagError, match="nothing in .* could be indexed: document 'a' is empty"):
        Pipeline.open(Settings(source_dir=tmp_path / "corpus", index_dir=tmp_path / "index"), log=lambda m: None)


def test_two_files_with_one_stem_get_distinct_ids(corpus, tmp_path):
    from rag.ingest.load import load_corpus

    (corpus / "alpha.txt").write_text("Alpha Plain\n\nThe plain alpha file says the budget is 5 won.\n")
    (corpus / "alpha.md").write_text("Alpha Markdown\n\nThe markdown alpha file says the budget is 9 won.\n")
    documents = {d.doc_id: d for d in load_corpus(corpus)}
    assert documents["alpha.txt"].title == "Alpha Plain" and documents["alpha.md"].title == "Alpha Markdown"


def test_byte_order_mark_and_old_mac_line_ends(tmp_path):
    from rag.ingest.load import read_document

    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffTitle Line\r\rBody sentence one. Body sentence two.\r".encode("utf-8"))
    document = read_document(path)
    assert document.title == "Title Line" and len(document.text) == len(path.read_bytes().decode("utf-8-sig"))


def test_a_huge_document_is_refused_and_a_long_paragraph_is_parsed_in_pieces(nlp):
    from rag.chunk import PARSE_CHARS, _parseable
    from rag.errors import TooLong
    from rag.ingest.load import MAX_DOCUMENT_CHARS, document_from_text

    with pytest.raises(TooLong, match="the most one document may have"):
        document_from_text("big", "Title\n\n" + "word " * (MAX_DOCUMENT_CHARS // 5 + 1))
    text = "Sentence number one is here. " * 2000
    pieces = _parseable(text, 0, len(text))
    assert len(pieces) > 1 and all(e - s <= PARSE_CHARS for s, e in pieces)
    assert all(text[e - 1] == "." for s, e in pieces[:-1])  # cut at sentence ends


def test_files_changed_behind_a_running_pipeline_are_found_by_sync(corpus, tmp_path):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    live = open_quietly(settings, [])
    (corpus / "dropped-in.txt").write_text("Dropped In\n\nThe dropped-in article says the harbour opened in 1999.\n")
    removed = sorted(live.store.documents)[1]
    (corpus / f"{removed}.txt").unlink()
    assert live.sync() and "dropped-in" in live.store.documents and removed not in live.store.documents
    assert not live.sync()  # nothing new
    restarted = []
    open_quietly(settings, restarted)
    assert restarted == []  # the saved index matches the folder: a restart changes nothing


def test_two_pipelines_on_one_index_folder_lose_no_acknowledged_document(corpus, tmp_path):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    first, second = open_quietly(settings, []), open_quietly(settings, [])
    first.add_document("from-first", "From First\n\nThe first server added this article about Gwangju trams.\n")
    second.add_document("from-second", "From Second\n\nThe second server added this one about Gwangju parks.\n")
    assert {"from-first", "from-second"} <= set(second.store.documents)
    assert {"from-first", "from-second"} <= set(load(tmp_path / "index").documents)
    messages = []
    open_quietly(settings, messages)
    assert messages == []  # and the manifest knows both files: nothing to redo at the next start


def test_a_question_in_another_script_gets_a_plain_english_only_notice(pipeline):
    result = pipeline.ask("광주는 올해 국비를 얼마나 확보했나?")
    assert result.abstained and "Hangul script" in result.reason and "English only" in result.reason
