"""The sentence ranker shared by open answers: each sentence once, scored by its relevance to the question."""

from rag.answer.sentences import candidates, facts


def test_overlapping_chunks_give_each_sentence_once(pipeline):
    hits = pipeline.search("Gwangju AI budget", k=5)
    found = candidates(hits)
    keys = [(s.doc_id, s.start) for s in found]
    assert found and len(keys) == len(set(keys))
    assert all(hits[s.hit].chunk.sentence_texts()[s.index] == s.text for s in found)


def test_the_sentence_that_answers_ranks_above_the_rest(pipeline):
    answerer = pipeline.answerer("sentences")
    question = "How much national budget did Gwangju secure this year?"
    ranked = answerer.ranker.rank(question, ["national", "budget", "gwangju", "secure", "year"],
                                  pipeline.search(question, k=5))
    assert "62.6 billion" in ranked[0].text
    assert [s.relevance for s in ranked] == sorted((s.relevance for s in ranked), reverse=True)


def test_sentences_that_name_numbers_and_names_hold_more_facts():
    assert facts("Kang Ki-jung said 5,000 AI talents will be trained by 2030.") > facts("It was said to be good.")
    assert facts("") == 0.0


def test_windows_take_a_neighbour_each_side_and_merge_when_they_touch(pipeline):
    from rag.answer.sentences import Sentence, window_hits, windows

    hits = sorted(pipeline.search("Gwangju AI budget", k=10), key=lambda h: -len(h.chunk.sentences))[:2]
    assert len(hits[0].chunk.sentences) >= 4
    ranked = [Sentence(0, 1, "d", 0, "", 9, False), Sentence(0, 2, "d", 0, "", 9, False),
              Sentence(1, 0, "d", 0, "", 9, False)]
    chosen = windows(ranked, hits, 3)
    assert [(w.hit, w.first, w.last) for w in chosen] == [(0, 0, 3), (1, 0, 1)]
    view = window_hits(hits, chosen)[0].chunk
    assert view.sentence_texts() == hits[0].chunk.sentence_texts()[0:4] and view.start == hits[0].chunk.start
