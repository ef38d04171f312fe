"""Follow-up questions made standalone, so retrieval finds their passages without the conversation.

A follow-up's third-person pronouns (he, its, they…) and demonstratives of a kind ("that city", "this
company") are replaced by what they most likely point at, looking back one exchange (a question and its
answer) at a time, newest first:

- An exchange whose question asked for a thing ("Who…?", "Which city…?") is about its answer: "Which city is
  China's AI heart?" "Hangzhou." "Who is its mayor?" -> "Who is Hangzhou's mayor?". When that answer was "I
  don't know", what the pronoun points at is unknown, and nothing older stands in for it.
- Otherwise it is about the names in its question, then in its answer, first named first; "they" takes two
  names joined by "and" when the question has them.

A pronoun only takes a name of its kind: a person for he/she, a place or an organisation (never a nationality
like "Chinese") for it/they, a place for "that city". A follow-up whose pronoun points at nothing is asked as
written, and `Standalone.unresolved` names the words, so the reply can say so.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from rag.language.nlp import ENTITY_PIPES, Language

PEOPLE = frozenset({"PERSON"})
PLACES = frozenset({"GPE", "LOC", "FAC"})
GROUPS = frozenset({"ORG"})
THINGS = PLACES | GROUPS | frozenset({"PRODUCT", "EVENT", "LAW", "WORK_OF_ART"})
PRONOUNS = {"he": PEOPLE, "him": PEOPLE, "his": PEOPLE, "she": PEOPLE, "her": PEOPLE,
            "it": THINGS, "its": THINGS, "they": THINGS | PEOPLE, "them": THINGS | PEOPLE, "their": THINGS | PEOPLE}
POSSESSIVE = {"his", "its", "their"}
PLURAL = {"they", "them", "their"}
# Nouns that name a kind of thing: "that city", "which university", "this company".
KINDS = {
    **dict.fromkeys(("city", "country", "province", "region", "town", "state", "place", "county", "district"), PLACES),
    **dict.fromkeys(("company", "firm", "university", "organization", "organisation", "institution", "group",
                     "agency", "ministry", "school", "institute", "government", "team", "club"), GROUPS),
    **dict.fromkeys(("person", "man", "woman", "official", "leader", "minister", "mayor", "governor", "president",
                     "chief", "executive", "director", "player", "manager", "spokesman", "spokeswoman"), PEOPLE),
    **dict.fromkeys(("project", "event", "meeting", "plan", "programme", "program", "festival", "law", "product",
                     "initiative", "agreement"), THINGS),
}
DEMONSTRATIVES = {"that", "this"}
IDK = "I don't know"


@dataclass
class Standalone:
    text: str  # the question to ask
    unresolved: list[str] = field(default_factory=list)  # words of the follow-up nothing earlier could stand for
    context: str = ""  # the previous question, for retrieval only, when the follow-up names nothing itself


@dataclass(frozen=True)
class Referent:
    name: str
    kinds: frozenset[str]


def standalone(turns: list[tuple[str, str]], nlp: Language) -> Standalone:
    """`turns` are (role, text), oldest first, ending with the user's question."""
    question = turns[-1][1].strip()
    doc = nlp(question, disable=ENTITY_PIPES)
    references = _references(doc)
    exchanges = _exchanges(turns[:-1])
    if not references:
        # "How large is the site?": an elliptical follow-up; its passages are most likely the last question's
        names_nothing = not any(t.pos_ == "PROPN" or t.like_num for t in doc)
        return Standalone(question, context=exchanges[0][0] if exchanges and names_nothing else "")
    pieces, position, unresolved = [], 0, []
    for start, end, words, kinds, possessive, plural in references:
        referent = _resolve(exchanges, kinds, plural, nlp)
        if referent is None:
            unresolved.append(words)
            continue
        pieces += [question[position:start], referent + ("'s" if possessive else "")]
        position = end
    text = "".join(pieces) + question[position:]
    return Standalone(text[0].upper() + text[1:] if text else text, unresolved)


def _references(doc) -> list[tuple[int, int, str, frozenset[str], bool, bool]]:
    """(start, end, words, kinds, possessive, plural) of each pronoun and "that <kind>" in the question."""
    found = []
    for token in doc:
        lower = token.lower_
        if lower in PRONOUNS:
            possessive = lower in POSSESSIVE or (lower == "her" and token.tag_ == "PRP$")
            after = doc[token.i + 1] if token.i + 1 < len(doc) else None
            kind = KINDS.get(after.lemma_.lower()) if after is not None and after.tag_ == "NN" else None
            if possessive and kind in (PLACES, GROUPS):
                # "his university": the university of the conversation, rather than "Ma Yanming's university"
                end = after.idx + len(after.text)
                found.append((token.idx, end, doc.text[token.idx:end], kind, False, False))
                continue
            found.append((token.idx, token.idx + len(token.text), token.text, PRONOUNS[lower], possessive,
                          lower in PLURAL))
        elif lower in DEMONSTRATIVES and token.dep_ == "det" and token.head.lemma_.lower() in KINDS:
            noun = token.head
            if noun.i != token.i + 1:
                continue  # "that new city": leave it as asked
            end = noun.idx + len(noun.text)
            possessive = noun.i + 1 < len(doc) and doc[noun.i + 1].tag_ == "POS"
            if possessive:
                end = doc[noun.i + 1].idx + len(doc[noun.i + 1].text)
            found.append((token.idx, end, doc.text[token.idx:end], KINDS[noun.lemma_.lower()], possessive, False))
    return found


def _exchanges(turns: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """(question, answer) pairs, newest first; the answer is None when the assistant did not give one."""
    pairs: list[tuple[str, str | None]] = []
    for role, text in turns:
        if role == "user":
            pairs.append((text.strip(), None))
        elif role == "assistant" and pairs and pairs[-1][1] is None:
            answer = re.sub(r"\s*\[\d+\]", "", text)
            answer = re.sub(r"(\s*\([^()]*\))+\s*$", "", answer).strip()  # "(I'm not sure: …)", a reason
            if answer and not answer.startswith(IDK):
                pairs[-1] = (pairs[-1][0], answer)
    return pairs[::-1]


def _resolve(exchanges: list[tuple[str, str | None]], kinds: frozenset[str], plural: bool, nlp: Language) -> str | None:
    for question, answer in exchanges:
        sought = _sought(question, nlp)
        if sought is not None and sought & kinds:  # the exchange is about its answer
            if answer is None or len(answer.split()) > 8:
                return None  # about something the assistant could not name: do not guess
            return answer
        candidates = _named(question, nlp, plural) + (_named(answer, nlp, plural) if answer else ())
        for referent in candidates:
            if referent.kinds & kinds:
                return referent.name
    return None


@functools.lru_cache(maxsize=256)  # each earlier turn is parsed once, however many pronouns look back at it
def _sought(question: str, nlp: Language) -> frozenset[str] | None:
    """The kind of thing a question asks for when it asks for a named one: who -> a person, "which city" -> a
    place; None for questions that ask for a number, a time, a reason or a description ("What is X?")."""
    doc = nlp(question, disable=ENTITY_PIPES)
    for token in doc:
        lower = token.lower_
        if lower in ("who", "whom"):
            return PEOPLE
        if lower in ("which", "what") and token.tag_ == "WDT":  # the tag: the small parser's arcs are less sure
            noun = next((t for t in doc[token.i + 1 : token.i + 5] if t.pos_ in ("NOUN", "PROPN")), None)
            return KINDS.get(noun.lemma_.lower()) if noun is not None else None  # "which year": not a name
        if lower in ("which", "what", "how", "when", "where", "why"):
            return None
    return None


@functools.lru_cache(maxsize=256)
def _named(text: str, nlp: Language, plural: bool) -> tuple[Referent, ...]:
    """The names in a text, first named first; for "they", two names joined by "and" come first as one."""
    ents = [e for e in nlp(text).ents if e.label_ in THINGS | PEOPLE]
    named = tuple(Referent(_bare(e.text), frozenset({e.label_})) for e in ents)
    if plural:
        pairs = tuple(Referent(f"{_bare(a.text)} and {_bare(b.text)}", frozenset({a.label_, b.label_}))
                      for a, b in zip(ents, ents[1:]) if text[a.end_char : b.start_char].strip().lower() == "and")
        named = pairs + named
    return named


def _bare(name: str) -> str:
    """A name as it reads inside another sentence: without a trailing possessive."""
    return re.sub(r"['’]s$", "", name.strip())


UNRESOLVED = "could not tell what"  # how the note on a follow-up asked as written begins; replies repeat it


def ask_in_conversation(pipeline, turns: list[tuple[str, str]], **ask: object):
    """Answer the last user turn as a standalone question (the chat endpoint and the page's conversation alike).

    Args:
        pipeline: what answers (rag.pipeline.Pipeline). turns: (role, text), oldest first, ending with the
            user's question. ask: the rest of Pipeline.ask's arguments (doc_ids, since, until, k, form…).

    Returns:
        (the question as asked of the index, the Result); a follow-up whose pronoun could not be resolved is asked
        as written, with a note saying so and its answer held as unsure.
    """
    question = standalone(turns, pipeline.nlp)
    asked = turns[-1][1]
    # unchanged, the question is passed on as it came (an HTTP schema's checked question is not checked again)
    result = pipeline.ask(asked if question.text == asked else question.text, context=question.context, **ask)
    if question.unresolved:
        words = ", ".join(f'"{w}"' for w in question.unresolved)
        result.notes.append(f"{UNRESOLVED} {words} refers to from the conversation, so the question was asked as "
                            "written")
        if not result.abstained:
            result.confidence = "low"
    return question.text, result
