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


def test_passage_support_matches_whole_words_only():
    assert m.passage_supports("founded in 2024.", ["2024"])
    assert not m.passage_supports("it cost 12024 won", ["2024"])


def prediction(answerable=True, abstained=False, f1=1.0, supported=(), correct=True, kind="short", **more):
    row = {"kind": kind, "answerable": answerable, "abstained": abstained, "f1": f1, "em": f1, "correct": correct,
           "supported_citations": list(supported), "confidence": None if abstained else "high",
           "retrieval": {"recall@1": 1, "recall@3": 1, "recall@5": 1, "recall@10": 1, "ndcg@10": 1, "rr": 1}}
    return row | more


def test_summarise_scores_citations_and_abstention_as_ratios_over_the_right_questions():
    from rag.tools.evaluation.runner import summarise

    rows = [prediction(supported=[True, False]), prediction(supported=[], correct=False, f1=0.0),
            prediction(supported=[False]), prediction(answerable=False, abstained=True, f1=0.0, correct=True),
            prediction(answerable=False, f1=0.0, correct=False)]
    for row in rows[3:]:
        row.pop("retrieval")
    summary = summarise(rows, 0.0, timings=False)
    assert summary["citation_precision"] == pytest.approx(1 / 3)  # 1 of 3 shown citations supports its answer
    assert summary["citation_recall"] == pytest.approx(0.5)  # correct answers: q1 supported, q3 not
    assert summary["abstention_accuracy"] == 0.5 and summary["false_abstention_rate"] == 0.0
    assert summary["f1"] == pytest.approx(2 / 3) and "nugget_recall" not in summary


def test_nugget_recall_counts_facts_with_any_term_in_the_answer():
    nuggets = [["$27.5bn", "$27bn"], ["Rosneft"], ["Menatep", "$28.3bn"]]
    assert m.nugget_recall("It sold for $27bn to Rosneft.", nuggets) == pytest.approx(2 / 3)
    assert m.nugget_recall("", nuggets) == 0.0
    assert m.nugget_recall("Rosneftegaz bought it", nuggets) == 0.0  # whole words only


def test_sentence_support_checks_each_sentence_against_what_it_cites():
    quotes = {1: "Rosneft bought Baikal for $9.3bn on Monday.", 2: "Menatep is suing."}
    answer = "Rosneft bought Baikal for $9.3bn. [1] Menatep is suing Russia for $28.3bn. [2] Nobody knows. "
    assert m.sentence_support(answer, quotes) == [True, False]  # $28.3bn and Russia are not in quote 2
    from rag.cite import answer_sentences

    assert answer_sentences("A. [1] B. [2][3] C.") == [("A.", [1]), ("B.", [2, 3])]


def test_open_questions_are_scored_by_nuggets_with_fast_bootstrap_intervals():
    import time

    from rag.tools.evaluation.runner import intervals, summarise

    rows = [prediction(kind="open", nugget_recall=r, sentence_support=[True, s], words=80 + i, f1=None)
            for i, (r, s) in enumerate([(0.5, True), (0.25, False), (1.0, True)])]
    rows.append(prediction(kind="open", answerable=False, abstained=True, sentence_support=[], words=0))
    summary = summarise(rows, 0.0, timings=False)
    assert summary["nugget_recall"] == pytest.approx(1.75 / 3)
    assert summary["citation_support"] == pytest.approx(5 / 6)
    assert summary["open_abstention_accuracy"] == 1.0 and summary["open_words_p50"] == 81
    started = time.perf_counter()
    low, high = intervals(rows * 100)["nugget_recall"]
    assert time.perf_counter() - started < 5  # was 1,000 calls of summarise: minutes on a large set
    assert low <= summary["nugget_recall"] <= high
