import pytest

from rag.retrieve.fusion import HybridRetriever
from rag.contracts import Hit


class FixedRanking:
    def __init__(self, positions):
        self.positions = positions

    def search(self, query, k, doc_ids=None):
        return [Hit(p, f"chunk{p}", 1.0) for p in self.positions[:k]]


def test_rrf_prefers_items_ranked_well_by_both():
    hybrid = HybridRetriever([FixedRanking([1, 2, 3]), FixedRanking([2, 3, 1])], rrf_k=60)
    assert [h.position for h in hybrid.search("q", 3)] == [2, 1, 3]
    first_in_both = HybridRetriever([FixedRanking([7, 8]), FixedRanking([7, 9])], rrf_k=60).search("q", 3)
    assert first_in_both[0].score == 1.0 and 0 < first_in_both[-1].score < 0.5  # scaled: 1.0 is the best possible
    tied = HybridRetriever([FixedRanking([4, 5]), FixedRanking([5, 4])], rrf_k=60)
    assert [h.position for h in tied.search("q", 2)] == [4, 5]  # equal fused scores break on position


def test_dense_and_hybrid_find_the_budget_passage(pipeline):
    for mode in ("dense", "hybrid"):
        hits = pipeline.search("national budget secured this year", k=3, retrieval=mode)
        assert hits[0].chunk.doc_id == "002_a41762f22f1f4beb", mode
        assert hits == sorted(hits, key=lambda h: -h.score)


def test_lexical_search_finds_exact_names(pipeline):
    from rag.retrieve.lexical import LexicalRetriever

    hits = LexicalRetriever(pipeline.store).search("Yao Gaoyuan", 3)
    assert hits and "Yao Gaoyuan" in hits[0].chunk.text
    assert LexicalRetriever(pipeline.store).search("the of and", 3) == []


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_a_document_filter_applies_before_ranking(pipeline, mode):
    from rag.errors import NoSuchDocument

    budget, other = "002_a41762f22f1f4beb", "001_25a75e6ad182f60e"
    unfiltered = pipeline.search("national budget secured this year", k=3, retrieval=mode)
    assert unfiltered[0].chunk.doc_id == budget
    hits = pipeline.search("national budget secured this year", k=50, retrieval=mode, doc_ids=[other])
    assert {h.chunk.doc_id for h in hits} == {other}
    assert len(hits) == pipeline.store.chunk_counts()[other]  # every chunk of the document was a candidate
    with pytest.raises(NoSuchDocument, match="'nope'"):
        pipeline.search("budget", retrieval=mode, doc_ids=[other, "nope"])


def test_the_lexical_index_is_built_before_the_store_is_served(pipeline):
    from rag.index.faiss.store import Store
    from rag.retrieve.lexical import LexicalRetriever

    store = pipeline.store
    fresh = Store(dict(store.manifest), store.vectors, store.chunks, store.documents)
    LexicalRetriever(fresh)  # what a snapshot swap does
    assert "_bm25" in fresh.__dict__  # so the first question after a write does not build it
