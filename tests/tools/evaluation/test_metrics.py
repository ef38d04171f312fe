"""Metric functions on cases small enough to compute by hand."""

import pytest

from rag.tools.evaluation import metrics as m


def test_normalisation_drops_case_punctuation_and_articles():
    assert m.normalize_answer("The  62.6 billion KRW!") == "626 billion krw"
    assert m.normalize_answer("an Apple, a day") == "apple day"


def test_exact_match_and_f1_take_the_best_gold_answer():
    gold = ["62.6 billion KRW", "62.6 billion won"]
    assert m.exact_match("the 62.6 billion won", gold) == 1.0
    assert m.exact_match("62.6 billion", gold) == 0.0
    # "62.6 billion" vs "62.6 billion KRW": precision 2/2, recall 2/3 -> F1 0.8
    assert m.token_f1("62.6 billion", gold) == pytest.approx(0.8)
    assert m.token_f1("Seoul", gold) == 0.0
    assert m.token_f1("", gold) == 0.0


def test_recall_mrr_ndcg():
    retrieved = ["d2", "d2", "d1", "d3"]
    assert m.recall_at_k(retrieved, ["d1"], 1) == 0.0
    assert m.recall_at_k(retrieved, ["d1"], 3) == 1.0
    assert m.reciprocal_rank(retrieved, ["d1"]) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(retrieved, ["d9"]) == 0.0
    # distinct ranking d2, d1, d3: one gold doc at rank 2 -> DCG 1/log2(3), ideal 1
    assert m.ndcg_at_k(retrieved, ["d1"]) == pytest.approx(1 / 1.5849625, rel=1e-6)
    # two gold docs at ranks 1 and 2 -> perfect
    assert m.ndcg_at_k(retrieved, ["d1", "d2"]) == pytest.approx(1.0)


def test_citation_precision_and_recall():
    cited = [["it secured 62.6 billion KRW", "unrelated text"], [], ["Ma Yanming said"]]
    gold = [["62.6 billion KRW"], ["Seoul"], ["Lu Shan"]]
    assert m.citation_precision(cited, gold) == pytest.approx(1 / 3)
    # correct: q1 (supported) and q3 (not supported) -> 1/2
    assert m.citation_recall(cited, gold, [True, False, True]) == pytest.approx(0.5)
    assert m.citation_precision([[], []], gold[:2]) == 0.0


def test_passage_support_matches_whole_words_only():
    assert m.passage_supports("founded in 2024.", ["2024"])
    assert not m.passage_supports("it cost 12024 won", ["2024"])


def test_abstention_rates():
    rates = m.abstention_rates(abstained=[True, False, True, True], answerable=[False, False, True, True])
    assert rates == {"abstention_accuracy": 0.5, "false_abstention_rate": 1.0}
