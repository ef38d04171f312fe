import pytest

from rag.chunk import chunk_document, passage_entities
from rag.ingest.load import document_from_text, load_corpus


def chunk_all(corpus, nlp, embedder, tokens=128, overlap=1):
    return [
        c
        for d in load_corpus(corpus)
        for c in chunk_document(d, nlp, embedder.count_tokens, tokens, overlap)
    ]


def test_chunk_ids_are_stable_and_unique(corpus, nlp, embedder):
    first = chunk_all(corpus, nlp, embedder)
    second = chunk_all(corpus, nlp, embedder)
    assert [c.id for c in first] == [c.id for c in second]
    assert [c.text for c in first] == [c.text for c in second]
    assert len({c.id for c in first}) == len(first)
    assert first[0].id.endswith("#0")


def test_chunks_fit_the_window_and_map_back_to_the_file(corpus, nlp, embedder):
    documents = {d.doc_id: d for d in load_corpus(corpus)}
    chunks = chunk_all(corpus, nlp, embedder, tokens=96)
    assert len(chunks) > len(documents) and any(chunk.entities for chunk in chunks)  # the loops below check something
    for chunk in chunks:
        assert embedder.count_tokens(chunk.title) + sum(
            embedder.count_tokens(t) for t in chunk.sentence_texts()
        ) <= 96 + len(chunk.sentences)  # joining sentences may merge a wordpiece boundary
        text = documents[chunk.doc_id].text
        assert chunk.sentence_texts() == [text[s.start : s.end] for s in chunk.sentences]
        for label, start, end in chunk.entities:
            assert chunk.start <= start < end <= chunk.end


def test_without_entities_the_chunks_are_the_same_and_the_entities_can_be_found_later(nlp, embedder):
    text = ("Gwangju and Samsung\n\nMayor Kang Gi-jung met Samsung in Seoul on June 11. "
            "The city raised 619.2 billion won for eight startups.\n")
    document = document_from_text("one", text)
    full = chunk_document(document, nlp, embedder.count_tokens, 128, 1)
    light = chunk_document(document, nlp, embedder.count_tokens, 128, 1, entities=False)
    assert [c.to_dict() | {"entities": None} for c in full] == [c.to_dict() for c in light]
    assert {"PERSON", "GPE", "DATE", "MONEY", "CARDINAL"} <= {label for label, _, _ in full[0].entities}
    chunk = light[0]
    sentences = tuple((s.start, s.end) for s in chunk.sentences)
    assert passage_entities(nlp, text[chunk.start : chunk.end], chunk.start, sentences) == full[0].entities


def test_neighbouring_chunks_share_one_sentence(nlp, embedder):
    text = "Headline\n\n" + " ".join(f"Gwangju opened office number {i} today." for i in range(40)) + "\n"
    chunks = chunk_document(document_from_text("short", text), nlp, embedder.count_tokens, 64, 1)
    assert len(chunks) > 3
    for left, right in zip(chunks, chunks[1:]):
        assert right.sentences[0].start == left.sentences[-1].start


def test_no_sentence_is_skipped_between_chunks(corpus, nlp, embedder):
    groups = list(_by_document(chunk_all(corpus, nlp, embedder, tokens=64)))
    assert len(groups) == 5 and all(len(g) > 1 for g in groups)
    for doc_chunks in groups:
        starts = sorted({s.start for c in doc_chunks for s in c.sentences})
        for left, right in zip(doc_chunks, doc_chunks[1:]):
            # the next chunk starts at the last sentence (overlap) or the very next one (overlap did not fit)
            follower = starts[starts.index(left.sentences[-1].start) + 1]
            assert right.sentences[0].start in (left.sentences[-1].start, follower)


def _by_document(chunks):
    groups = {}
    for chunk in chunks:
        groups.setdefault(chunk.doc_id, []).append(chunk)
    return groups.values()


def test_boilerplate_and_captions_stay_out_of_chunks(corpus, nlp, embedder):
    chunks = chunk_all(corpus, nlp, embedder)
    assert chunks
    for chunk in chunks:
        assert "All rights reserved" not in chunk.text
        assert "bar_progress" not in chunk.text
        assert "Photo by Gwangju City" not in chunk.text


def test_a_sentence_longer_than_the_window_is_split_not_truncated(nlp, embedder):
    long_sentence = "Gwangju invited " + ", ".join(f"company number {i}" for i in range(80)) + "."
    document = document_from_text("long", "A headline\n\n" + long_sentence + "\n")
    chunks = chunk_document(document, nlp, embedder.count_tokens, 48, 0)
    assert len(chunks) > 1
    covered = " ".join(document.text[s.start : s.end] for c in chunks for s in c.sentences)
    assert "company number 79" in covered and "company number 0" in covered


def test_a_single_word_longer_than_the_window_is_cut_not_truncated(nlp, embedder):
    from rag.ingest.load import document_from_text

    blob = "x|" * 3000  # one spaCy token, 6,000 wordpieces
    document = document_from_text("blob", f"Blob Title\n\nThe checksum is {blob} and nothing else.\n")
    chunks = chunk_document(document, nlp, embedder.count_tokens, 128, 1)
    assert len(chunks) > 10
    assert all(embedder.count_tokens(c.embedding_text()) <= 128 + 2 for c in chunks)
    assert blob in "".join(document.text[s.start : s.end] for c in chunks for s in c.sentences)


def test_a_word_of_10000_letters_is_cut_though_it_counts_as_one_wordpiece(nlp, embedder):
    """WordPiece reads any word over 100 characters as one [UNK]: counting tokens alone would make one
    10,000-character chunk."""
    word = "a" * 10_000
    assert embedder.count_tokens(word) <= 3
    document = document_from_text("word", f"Word Title\n\nThe code word is {word} today.\n")
    chunks = chunk_document(document, nlp, embedder.count_tokens, 128, 1)
    assert len(chunks) > 1 and max(len(c.text) for c in chunks) <= 2_000
    assert word in "".join(document.text[s.start : s.end] for c in chunks for s in c.sentences)


@pytest.mark.slow
def test_characters_the_tokenizer_drops_still_fill_chunks(nlp, embedder):
    """10,000 combining marks or zero-width spaces once made one chunk of 10,084 characters."""
    from rag.chunk import CHARS_PER_TOKEN
    from rag.ingest.load import document_from_text

    for invisible in ("\u0301", "\u200b", "\ufe0f", "\u00ad"):
        text = "Marks\n\nThe city opened a library" + invisible * 10_000 + " on Monday. It was busy.\n"
        chunks = chunk_document(document_from_text("marks", text), nlp, embedder.count_tokens, 128, 1)
        assert len(chunks) > 1
        assert all(len(c.text) <= 1.5 * 128 * CHARS_PER_TOKEN for c in chunks), max(len(c.text) for c in chunks)
