"""Sentence-aware chunking (stage 2), with the linguistic annotations the reader needs at query time.

Every offset is into the original file. Chunk ids are `<doc_id>#<n>`: the same corpus and settings
always give the same ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from rag.contracts import Chunk, Sentence, Token
from rag.ingest.load import Document
from rag.language.nlp import ENTITY_PIPES, Doc, Language
from rag.language.text import trim_span

PARSE_CHARS = 10_000
# WordPiece reads a longer "word" as one [UNK]: 10,000 characters would count as one token and fill a chunk.
MAX_WORD_CHARS = 100
# Characters the tokenizer drops (combining marks, zero-width spaces, variation selectors, soft hyphens) count for
# nothing in wordpieces: a chunk counts at least one token per CHARS_PER_TOKEN characters, so 10,000 of them are no
# longer one giant chunk. English runs 4-6 characters a wordpiece: this floor never binds on real text.
CHARS_PER_TOKEN = 16

def is_content(token) -> bool:
    """Content words carry meaning; spaCy lists number words ("eight") as stop words, but they answer questions."""
    return not (token.is_punct or token.is_space) and (token.like_num or not token.is_stop)


def _inside_name(doc: Doc, start: int, end: int, sentence_starts: set[int]) -> bool:
    """'Advanced 3 District': a number between capitalised words is part of a name, not a count."""
    if start == 0 or end >= len(doc):
        return False
    before, after = doc[start - 1], doc[end]
    return before.is_title and before.idx not in sentence_starts and after.is_title


def find_entities(doc: Doc, text: str, offset: int, sentence_starts: set[int]) -> list[tuple[str, int, int]]:
    """Named entities and numbers of `doc`, a parse of `text` (which starts at `offset` in its file), as
    (label, start, end) in the file. `sentence_starts` are character positions in `text`."""
    entities = []
    # Numbers the entity model missed ("agreed on eight tasks") are still candidate counts.
    for token in doc:
        if token.like_num and not token.ent_type_ and not _inside_name(doc, token.i, token.i + 1, sentence_starts):
            entities.append(("CARDINAL", offset + token.idx, offset + token.idx + len(token.text)))
    for ent in doc.ents:
        if ent.label_ == "CARDINAL" and _inside_name(doc, ent.start, ent.end, sentence_starts):
            continue
        s, e = trim_span(text, ent.start_char, ent.end_char)
        if e > s:
            entities.append((ent.label_, offset + s, offset + e))
    return entities


@lru_cache(maxsize=4096)
def passage_entities(nlp: Language, text: str, offset: int, sentences: tuple[tuple[int, int], ...]):
    """The entities of one passage, found on demand in an index built without them: `text` is the passage's
    stretch of its file, starting at `offset`; `sentences` are its sentences' (start, end) in the file."""
    doc = nlp(text, disable=[p for p in nlp.pipe_names if p not in ENTITY_PIPES])
    found = find_entities(doc, text, offset, {start - offset for start, _ in sentences})
    return [e for e in found if any(start <= e[1] and e[2] <= end for start, end in sentences)]


def _annotate(doc: Doc, offset: int, text: str, entities: bool):
    sentences = []
    for sent in doc.sents:
        tokens = [
            (offset + t.idx, offset + t.idx + len(t.text), t.lemma_.lower(), is_content(t))
            for t in sent
            if not t.is_space
        ]
        if tokens:
            sentences.append(Sentence(tokens[0][0], tokens[-1][1], tokens))
    found = []
    if entities:
        starts = {sent[0].idx for sent in doc.sents}
        found = find_entities(doc, text[offset : offset + len(doc.text)], offset, starts)
    phrases = []
    for nc in doc.noun_chunks:
        s, e = trim_span(text, offset + nc.start_char, offset + nc.end_char)
        if e > s:
            phrases.append((s, e))
    return sentences, found, phrases


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
    """The token itself, or halves of it (recursively) until each fits in `limit` wordpieces and in
    MAX_WORD_CHARS characters."""
    start, end, lemma, content = token
    if end - start < 2 or (end - start <= MAX_WORD_CHARS and count_tokens(text[start:end]) <= limit):
        return [token]
    middle = (start + end) // 2
    return [*_fitting((start, middle, lemma, content), limit, count_tokens, text),
            *_fitting((middle, end, lemma, content), limit, count_tokens, text)]


def _cost(sentence: Sentence, text: str, count_tokens: Callable[[str], int]) -> int:
    """Wordpieces of a sentence; one holding a cut overlong word is counted piece by piece, since the pieces
    together would again be one [UNK]."""
    span = text[sentence.start : sentence.end]
    if re.search(rf"\S{{{MAX_WORD_CHARS + 1}}}", span):
        return count_tokens(" ".join(text[t[0] : t[1]] for t in sentence.tokens))
    return count_tokens(span)


def chunk_document(
    document: Document,
    nlp: Language,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap: int,
    entities: bool = True,
) -> list[Chunk]:
    """`entities=False` skips spaCy's entity recognizer, almost half of its time: only the `rules` answerer
    reads entities, and it finds them itself (`passage_entities`) in passages indexed without them."""
    wordpieces = count_tokens
    count_tokens = lambda span: max(wordpieces(span), len(span) // CHARS_PER_TOKEN)  # noqa: E731
    text = document.text
    blocks = [b for b in document.blocks if b.kind in ("subtitle", "body")]
    sentences: list[Sentence] = []
    found: list[tuple[str, int, int]] = []
    phrases: list[tuple[int, int]] = []
    budget = max(8, max_tokens - count_tokens(document.title))
    pieces = [piece for block in blocks for piece in _parseable(text, block.start, block.end)]
    parses = nlp.pipe((text[s:e] for s, e in pieces), disable=() if entities else ENTITY_PIPES)
    for (start, end), doc in zip(pieces, parses):
        sents, ents, nps = _annotate(doc, start, text, entities)
        for sent in sents:
            sentences.extend(_split_long(sent, budget, count_tokens, text))
        found += ents
        phrases += nps

    costs = [_cost(s, text, count_tokens) for s in sentences]
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
                entities=[e for e in found if _inside(e[1], e[2], sents)] if entities else None,
                phrases=[p for p in phrases if _inside(p[0], p[1], sents)],
            )
        )
    return chunks


def _inside(start: int, end: int, sentences: Iterable[Sentence]) -> bool:
    return any(s.start <= start and end <= s.end for s in sentences)
