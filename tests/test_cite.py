from rag.contracts import Draft, Evidence, abstain
from rag.cite import IDK, cite, supports


def test_supports_needs_the_answer_or_all_its_content_words():
    passage = "This year, it secured a national budget of 62.6 billion KRW, an increase of 20 billion KRW."
    assert supports("62.6 billion KRW", passage)
    assert supports("the 62.6 billion KRW budget", passage)
    assert not supports("72.6 billion KRW", passage)
    assert not supports("", passage)


def test_unverifiable_citation_is_removed_and_answer_abstains(pipeline):
    hits = pipeline.search("national budget of 62.6 billion KRW", k=3)
    wrong = Draft(text="Paris", evidence=[Evidence(0, 0)], confidence=0.9)
    result = cite("What is the capital of France?", wrong, hits)
    assert result.abstained and result.answer == IDK and result.citations == []
    assert result.passages, "an abstention still lists the closest passages"


def test_verified_citation_carries_offsets_and_quote(pipeline):
    hits = pipeline.search("national budget of 62.6 billion KRW", k=3)
    chunk = hits[0].chunk
    index = next(i for i, t in enumerate(chunk.sentence_texts()) if "62.6 billion KRW" in t)
    result = cite("q", Draft(text="62.6 billion KRW", evidence=[Evidence(0, index)]), hits)
    assert result.answer == "62.6 billion KRW [1]" and not result.abstained
    citation = result.citations[0]
    original = pipeline.store.documents[citation.doc_id].text
    assert original[citation.start : citation.end] == citation.quote
    assert citation.chunk_id == chunk.id and "62.6 billion KRW" in citation.quote


def test_abstaining_draft_lists_closest_passages(pipeline):
    hits = pipeline.search("population of Gwangju", k=3)
    result = cite("q", abstain("not covered"), hits)
    assert result.abstained and result.reason == "not covered" and len(result.passages) == 3


def test_a_quote_the_article_no_longer_holds_at_its_offsets_is_never_shown(pipeline):
    hits = pipeline.search("national budget of 62.6 billion KRW", k=3)
    chunk = hits[0].chunk
    index = next(i for i, t in enumerate(chunk.sentence_texts()) if "62.6 billion KRW" in t)
    draft = Draft(text="62.6 billion KRW", evidence=[Evidence(0, index)])
    original = pipeline.store.documents[chunk.doc_id].text
    assert not cite("q", draft, hits, lambda doc_id: original).abstained
    start = chunk.sentences[index].start
    edited = original[:start] + "X" + original[start + 1:]  # same size: only the quote check can tell
    result = cite("q", draft, hits, lambda doc_id: edited if doc_id == chunk.doc_id else None)
    assert result.abstained and result.citations == []
    assert result.passages and all(p.doc_id != chunk.doc_id for p in result.passages)
    assert any(f"out of date for {chunk.doc_id!r}" in note and "rag index --rebuild" in note for note in result.notes)


def test_each_sentence_of_a_sentence_answer_is_cited_and_checked(pipeline):
    from rag.cite import cite
    from rag.contracts import Draft, Evidence

    hits = pipeline.search("Gwangju national budget", k=3)
    quote = hits[0].chunk.sentence_texts()[0]
    made_up = "Gwangju will host the Olympics in 2040."
    draft = Draft(text="", parts=[quote, made_up], evidence=[Evidence(0, 0), Evidence(0, 0)])
    result = cite("Tell me about the budget.", draft, hits)
    assert result.form == "sentences" and result.answer == f"{quote} [1]"  # the unsupported sentence is dropped
    assert result.text == quote and len(result.citations) == 1
    alone = cite("q", Draft(text="", parts=[made_up], evidence=[Evidence(0, 0)]), hits)
    assert alone.abstained


def test_a_written_sentence_is_cited_when_its_quote_holds_all_its_content_words(pipeline):
    from rag.cite import cite
    from rag.contracts import Draft, Evidence

    hits = pipeline.search("Gwangju national budget", k=3)
    quote = hits[0].chunk.sentence_texts()[0]
    words = [w for w in quote.split() if w[0].isalpha()][:4]
    written = " ".join(words) + "."
    result = cite("q", Draft(text="", parts=[written], evidence=[Evidence(0, 0)]), hits)
    assert not result.abstained and result.answer == f"{written} [1]"


def test_encoding_damage_is_repaired_in_what_is_shown_and_offsets_still_index_the_file():
    """News-dev shows the pound sign as "Â£" in 97 of 323 articles."""
    from rag.cite import cite
    from rag.contracts import Chunk, Draft, Evidence, Hit, Sentence

    article = "Profits\n\nThe firm made Â£103m profit, up 5% â€“ its best year.\n"
    start = article.index("The firm")
    end = article.index("year.") + len("year.")
    chunk = Chunk("d#0", "d", "Profits", start, end, article[start:end], [Sentence(start, end, [])])
    answer_start = article.index("Â£103m")
    draft = Draft(text="Â£103m", evidence=[Evidence(0, 0, answer_start, answer_start + len("Â£103m"))])
    result = cite("How much profit?", draft, [Hit(0, chunk, 1.0)], lambda doc_id: article)
    assert result.answer == "£103m [1]" and result.text == "£103m"
    citation = result.citations[0]
    assert citation.quote == "The firm made £103m profit, up 5% – its best year."
    assert article[citation.start:citation.end] == article[start:end]  # the file's own text, offsets unchanged
    assert article[citation.answer_start:citation.answer_end] == "Â£103m"


def test_a_quote_that_stops_inside_its_sentence_says_it_goes_on():
    """A quote cut at a chunk boundary ended mid-sentence with nothing to show it."""
    from rag.cite import goes_on

    article = "Title line\n\nThe council met and agreed on a long list of things that go on and on. Next one.\n"
    piece_end = article.index(" that go on")
    assert goes_on(article, piece_end, article[article.index("The council"):piece_end])
    whole_end = article.index("on and on.") + len("on and on.")
    assert not goes_on(article, whole_end, article[article.index("The council"):whole_end])
    assert not goes_on(article, len("Title line"), "Title line")  # a headline ends its line
