"""The store contract (rag/index/contract.py), tested the same way for every store registered in STORES: a new
store passes this suite or is not done (in the manner of Haystack's document store test mixins). Each store is
driven through the pipeline, as the CLI and the service drive it; PostgreSQL runs with the live tests."""

import shutil

import pytest

from rag.errors import LastDocument, NoSuchDocument
from rag.index import STORES
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.conftest import SEEDS

PORT = "Busan opens a robotics port\n\nThe city of Busan said on Monday that its robotics port will cost 3.2 " \
       "trillion won and open in 2031.\n"


def test_every_registered_store_is_in_this_suite():
    assert set(STORES.names()) == {"faiss", "postgres"}, "add the new store to index_under_test's params"


# faiss with the slow tests (an index built per test: 12 s in all), postgres with the live ones
@pytest.fixture(params=[pytest.param("faiss", marks=pytest.mark.slow), pytest.param("postgres", marks=pytest.mark.live)])
def index_under_test(request, tmp_path) -> Pipeline:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(path, corpus)
    settings = {"source_dir": corpus, "index_dir": tmp_path / "index"}
    if request.param == "postgres":
        settings |= {"store": "postgres", "database_url": request.getfixturevalue("database_url")}
    return Pipeline.open(Settings(**settings), log=lambda message: None)


def test_the_corpus_is_indexed_and_searchable_both_ways(index_under_test):
    store = index_under_test.store
    assert len(store.documents) == 2 and sum(store.chunk_counts().values()) > 2
    vector = index_under_test.embedder.encode(["Zhejiang University president"])[0]
    dense, lexical = store.dense(vector, 3), store.lexical("Zhejiang University", 3)
    assert dense and lexical and all(h.chunk.doc_id in store.documents for h in dense + lexical)
    assert [h.score for h in dense] == sorted((h.score for h in dense), reverse=True)
    assert store.lexical("xylophonequux", 3) == []  # no query word is indexed: no hits


def test_put_replace_and_delete_change_what_is_searched(index_under_test):
    pipeline = index_under_test
    pipeline.add_document("busan-port", PORT, meta={"published": "2031-01-02", "byline": "Kim"})
    store = pipeline.store
    assert store.documents["busan-port"].meta == {"published": "2031-01-02", "byline": "Kim"}
    assert any(h.chunk.doc_id == "busan-port" for h in store.lexical("robotics port Busan", 3))
    pipeline.add_document("busan-port", PORT.replace("3.2 trillion", "4.5 trillion"))
    texts = " ".join(h.chunk.text for h in pipeline.store.lexical("robotics port Busan", 5))
    assert "4.5 trillion" in texts and "3.2 trillion" not in texts
    pipeline.remove_document("busan-port")
    assert "busan-port" not in pipeline.store.documents
    assert all(h.chunk.doc_id != "busan-port" for h in pipeline.store.lexical("robotics port Busan", 5))
    with pytest.raises(NoSuchDocument):
        pipeline.remove_document("busan-port")


def test_the_last_document_cannot_be_removed(index_under_test):
    first, last = sorted(index_under_test.store.documents)
    index_under_test.remove_document(first)
    with pytest.raises(LastDocument):
        index_under_test.remove_document(last)


def test_searches_filter_by_document_before_ranking(index_under_test):
    store = index_under_test.store
    only = frozenset([sorted(store.documents)[1]])
    vector = index_under_test.embedder.encode(["Gwangju"])[0]
    assert {h.chunk.doc_id for h in store.dense(vector, 5, only)} == set(only)
    assert {h.chunk.doc_id for h in store.lexical("Gwangju", 5, only)} <= set(only)
    if store.hybrid is not None:  # a declared capability: fused in the store, filtered the same way
        fused = store.hybrid(vector, "Gwangju", 5, 60, 20, only)
        assert fused and {h.chunk.doc_id for h in fused} == set(only)


def test_sync_brings_in_files_added_edited_and_removed_by_hand(index_under_test):
    corpus = index_under_test.settings.source_dir
    (corpus / "busan-port.txt").write_text(PORT)
    assert index_under_test.sync()
    assert "busan-port" in index_under_test.store.documents
    (corpus / "busan-port.txt").unlink()
    assert index_under_test.sync() and "busan-port" not in index_under_test.store.documents
    assert not index_under_test.sync()  # nothing changed since


def test_an_id_with_every_allowed_kind_of_character_round_trips(index_under_test):
    doc_id = "Port_2031.v2-final"
    index_under_test.add_document(doc_id, PORT)
    assert index_under_test.store.documents[doc_id].title == "Busan opens a robotics port"
    assert index_under_test.ask("How much will the Busan robotics port cost?", doc_ids=[doc_id]).citations


def test_a_question_in_flight_keeps_the_version_it_started_with(index_under_test):
    """Snapshot isolation: what a question took stays whole while writes land (a store shared by several
    processes serves every write at once, and says so with `shared`)."""
    pipeline = index_under_test
    before = pipeline.snapshot
    documents = set(before.store.documents)
    pipeline.add_document("busan-port", PORT)
    if not pipeline.index.shared:
        assert set(before.store.documents) == documents
    assert "busan-port" in pipeline.store.documents
