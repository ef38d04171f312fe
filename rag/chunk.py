"""Sentence-aware chunking (stage 2), with the linguistic annotations the reader needs at query time.

Every offset is into the original file. Chunk ids are `<doc_id>#<n>`: the same corpus and settings
always give the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from spacy.language import Language
from spacy.tokens import Doc

from rag.contracts import Chunk, Sentence, Token
from rag.load import Document
from rag.text import trim_span

PARSE_CHARS = 10_000

def is_content(token) -> bool:
    """Content words carry meaning; spaCy lists number words ("eight") as stop words, but they answer questions."""
    return not (token.is_punct or token.is_space) and (token.like_num or not token.is_stop)


def _inside_name(doc: Doc, start: int, end: int) -> bool:
    """'Advanced 3 District': a number between capitalised words is part of a name, not a count."""
    if start == 0 or end >= len(doc):
        return False
    before, after = doc[start - 1], doc[end]
    return before.is_title and not before.is_sent_start and after.is_title


def _annotate(doc: Doc, offset: int, text: str):
    sentences = []
    for sent in doc.sents:
        tokens = [
            (offset + t.idx, offset + t.idx + len(t.text), t.lemma_.lower(), is_content(t))
            for t in sent
            if not t.is_space
        ]
        if tokens:
            sentences.append(Sentence(tokens[0][0], tokens[-1][1], tokens))
    entities = []
    # Numbers the entity model missed ("agreed on eight tasks") are still candidate counts.
    for token in doc:
        if token.like_num and not token.ent_type_ and not _inside_name(doc, token.i, token.i + 1):
            entities.append(("CARDINAL", offset + token.idx, offset + token.idx + len(token.text)))
    for ent in doc.ents:
        if ent.label_ == "CARDINAL" and _inside_name(doc, ent.start, ent.end):
            continue
        s, e = trim_span(text, offset + ent.start_char, offset + ent.end_char)
        if e > s:
            entities.append((ent.label_, s, e))
    phrases = []
    for nc in doc.noun_chunks:
        s, e = trim_span(text, offset + nc.start_char, offset + nc.end_char)
        if e > s:
            phrases.append((s, e))
    return sentences, entities, phrases


def _parseable(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A paragraph cut into pieces of at most PARSE_CHARS at sentence ends (or spaces): the parser's cost
    and memory grow with the length of what it is given at once, and it refuses a million characters."""
    pieces = []
    while end - start > PARSE_CHARS:
        window = text[start : start + PARSE_CHARS]
        cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "))
        cut = cut + 1 if cut > PARSE_CHARS // 2 else (window.rfind(" ") if window.rfind(" ") > 0 else PARSE_CHARS)
        pieces.append((start, start + cut))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def _split_long(sentence: Sentence, limit: int, count_tokens: Callable[[str], int], text: str) -> list[Sentence]:
    """A sentence over the window is cut at word boundaries rather than silently truncated by the model;
    a single "word" longer than the window (a hash, a run of symbols) is cut inside itself."""
    pieces, current, used = [], [], 0
    for token in (part for t in sentence.tokens for part in _fitting(t, limit, count_tokens, text)):
        cost = count_tokens(text[token[0] : token[1]])
        if current and used + cost > limit:
            pieces.append(current)
            current, used = [], 0
        current.append(token)
        used += cost
    if current:
        pieces.append(current)
    return [Sentence(p[0][0], p[-1][1], p) for p in pieces]


def _fitting(token: Token, limit: int, count_tokens: Callable[[str], int], text: str) -> list[Token]:
    """The token itself, or halves of it (recursively) until each fits in `limit` wordpieces."""
    start, end, lemma, content = token
    if count_tokens(text[start:end]) <= limit or end - start < 2:
        return [token]
    middle = (start + end) // 2
    return [*_fitting((start, middle, lemma, content), limit, count_tokens, text),
            *_fitting((middle, end, lemma, content), limit, count_tokens, text)]


def chunk_document(
    document: Document,
    nlp: Language,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap: int,
) -> list[Chunk]:
    text = document.text
    blocks = [b for b in document.blocks if b.kind in ("subtitle", "body")]
    sentences: list[Sentence] = []
    entities: list[tuple[str, int, int]] = []
    phrases: list[tuple[int, int]] = []
    budget = max(8, max_tokens - count_tokens(document.title))
    pieces = [piece for block in blocks for piece in _parseable(text, block.start, block.end)]
    for (start, end), doc in zip(pieces, nlp.pipe(text[s:e] for s, e in pieces)):
        sents, ents, nps = _annotate(doc, start, text)
        for sent in sents:
            sentences.extend(_split_long(sent, budget, count_tokens, text))
        entities += ents
        phrases += nps

    costs = [count_tokens(text[s.start : s.end]) for s in sentences]
    groups: list[list[int]] = []
    current: list[int] = []
    for i, cost in enumerate(costs):
        if current and sum(costs[j] for j in current) + cost > budget:
            groups.append(current)
            current = current[-overlap:] if overlap else []
            while current and sum(costs[j] for j in current) + cost > budget:
                current = current[1:]
        current.append(i)
    if current:
        groups.append(current)

    chunks = []
    for n, group in enumerate(groups):
        sents = [sentences[i] for i in group]
        start, end = sents[0].start, sents[-1].end
        chunks.append(
            Chunk(
                id=f"{document.doc_id}#{n}",
                doc_id=document.doc_id,
                title=document.title,
                start=start,
                end=end,
                text=" ".join(text[s.start : s.end] for s in sents),
                sentences=sents,
                entities=[e for e in entities if _inside(e[1], e[2], sents)],
                phrases=[p for p in phrases if _inside(p[0], p[1], sents)],
            )
        )
    return chunks


def _inside(start: int, end: int, sentences: Iterable[Sentence]) -> bool:
    return any(s.start <= start and end <= s.end for s in sentences)
