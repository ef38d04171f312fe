"""The `sentences` answerer: a few verbatim sentences, each cited and checked, in the articles' order, within the
length limit; an abstention when the passages do not mention the topic."""

import pytest

from rag.answer.extractive import clip


@pytest.fixture(scope="module")
def answerer(pipeline):
    return pipeline.answerer("sentences")


def test_an_open_question_gets_cited_sentences_each_in_its_quote(pipeline):
    result = pipeline.ask("Tell me about Gwangju's plan to nurture talent.")
    assert result.form == "sentences" and not result.abstained
    assert result.citations and len(result.text.split()) <= pipeline.settings.max_words
    for citation in result.citations:
        article = pipeline.store.documents[citation.doc_id].text
        assert article[citation.start:citation.end] == citation.quote
        assert f"[{citation.n}]" in result.answer
    # every sentence of the answer is one of its quotes, word for word
    quotes = [c.quote for c in result.citations]
    assert all(any(part in q for q in quotes) for part in result.answer.split(" [") if part and part[0] != "[" and
               not part[0].isdigit())


def test_a_summary_finds_the_article_and_keeps_its_order(pipeline, answerer):
    question = "Summarize the article about Gyeonggi Province."
    hits = pipeline.search(question, k=5)
    draft = answerer.answer(question, hits)
    assert draft.form == "sentences" and 1 <= len(draft.parts) <= 5
    keys = [(hits[e.hit].chunk.doc_id, hits[e.hit].chunk.sentences[e.sentence].start) for e in draft.evidence]
    by_article = {}
    for doc_id, start in keys:
        by_article.setdefault(doc_id, []).append(start)
    assert all(starts == sorted(starts) for starts in by_article.values())
    assert any("Gyeonggi" in part for part in draft.parts)


def test_the_length_limit_holds(pipeline):
    from rag import Settings
    from rag.answer import make_answerer

    short = make_answerer("sentences", Settings(max_words=30), pipeline.store, pipeline.nlp, pipeline.embedder)
    question = "Tell me about Gwangju's AI plans."
    draft = short.answer(question, pipeline.search(question, k=5))
    assert sum(len(p.split()) for p in draft.parts) <= 31  # the first sentence may be cut, with "…"


def test_a_topic_no_passage_mentions_is_an_abstention(pipeline):
    result = pipeline.ask("Tell me about the Mars colony plans.")
    assert result.abstained and result.reason.startswith("not in the indexed articles") and "mars" in result.reason


def test_a_sentence_longer_than_the_limit_is_cut_with_an_ellipsis():
    assert clip("one two three four", 2) == "one two…"
    assert clip("one two", 2) == "one two"
