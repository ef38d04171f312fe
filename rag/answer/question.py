"""What a question asks for: the answer type it expects and the key terms an answer's passage must cover."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.chunk import is_content
from rag.language.nlp import ENTITY_PIPES, Language

PERSON = {"PERSON"}
PLACE = {"GPE", "LOC", "FAC"}
ORGANISATION = {"ORG"}
DATE = {"DATE", "TIME"}
MONEY = {"MONEY"}
COUNT = {"CARDINAL", "QUANTITY"}
AMOUNT = {"MONEY", "QUANTITY", "PERCENT", "CARDINAL"}
SIZE = {"QUANTITY"}
PERCENT = {"PERCENT"}
EVENT = {"EVENT", "ORG", "FAC", "WORK_OF_ART"}
NUMERIC = {"MONEY", "CARDINAL", "QUANTITY", "PERCENT", "DATE", "TIME", "ORDINAL"}
NAMED = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
CONFUSABLE = {"person": {"GPE", "NORP", "PRODUCT", "WORK_OF_ART"}}  # a convention centre is never a "who"

# Head nouns of "which X" / "what X" questions, by the entity types that answer them.
# Titles written next to a name ("Mayor Kang", "Lu Shan, Vice Governor of ...").
ROLE_NOUNS = set(
    "mayor governor president official ceo chief leader reporter journalist professor director minister head "
    "chairman spokesperson founder principal trainee".split()
)
HEAD_NOUN_TYPES: dict[str, set[str]] = {}
for nouns, labels in [
    ("person people man woman " + " ".join(sorted(ROLE_NOUNS)), PERSON),
    ("university company organization organisation institution institute agency ministry school firm group "
     "association federation newspaper team government startup unicorn bank council office committee", ORGANISATION),
    ("city country province region place hotel venue location district zone site county state nation "
     "town capital area", PLACE | ORGANISATION),
    ("date day month year time period", DATE),
    ("amount budget cost fund funding sum money price investment", MONEY),
    ("number count", COUNT),
    ("size area", SIZE),
    ("percentage percent share rate", PERCENT),
    ("event expo festival ceremony forum meeting conference exhibition", EVENT),
]:
    for noun in nouns.split():
        HEAD_NOUN_TYPES[noun] = labels

# "What did they spend/invest?" asks for money even though no noun says so.
MONEY_VERBS = {"spend", "pay", "cost", "invest", "earn", "fund", "allocate"}

WH_WORDS = {"who", "whom", "whose", "what", "which", "where", "when", "why", "how"}
# Words that shape a question but are never evidence for an answer.
QUESTION_FILLER = WH_WORDS | {"name", "many", "much", "kind", "type", "article", "according", "mention", "say"}


@dataclass
class Question:
    text: str
    terms: list[str]  # content lemmas an answer's passage should mention
    expected: set[str] = field(default_factory=set)  # entity labels that answer it; empty means any phrase
    kind: str = "phrase"
    secondary: set[str] = field(default_factory=set)  # labels that can answer it, but less often
    head: set[str] = field(default_factory=set)  # lemmas of the wh-phrase's noun: "which techno valley"
    root: str | None = None  # the head noun itself: "valley"

    def type_fit(self, label: str | None) -> float:
        if self.expected & NUMERIC or self.kind == "date":
            return 1.0 if label in self.expected and label not in self.secondary else 0.5 if label in self.expected else 0.0
        if label in self.secondary:
            return 0.5
        if label in self.expected:
            return 1.0
        if label in NUMERIC:
            if self.expected:
                return 0.0  # "where": never a date
            return 0.1 if self.head else 0.5  # "which project": a date or a number is rarely the thing asked for
        if self.expected:
            # The small NER model often mislabels names, so other name labels get a little credit; plain phrases none.
            return 0.3 if label in CONFUSABLE.get(self.kind, NAMED) else 0.0
        return 1.0 if label else 0.6  # a named thing answers an open question better than a pronoun phrase


def wh_phrase_head(doc) -> tuple[set[str], str | None]:
    """The noun (with its compounds) the question asks about: "which techno valley" → ({techno, valley}, valley)."""
    for i, token in enumerate(doc):
        if token.lower_ in ("which", "what", "who") or (token.lower_ in ("many", "much") and i and doc[i - 1].lower_ == "how"):
            chunk = _asked_noun_phrase(doc, i)  # "who is the governor": the asked role
            if chunk is None:
                return set(), None
            head = [chunk.root] + [t for t in chunk.root.children if t.dep_ == "compound" and t.i > i]
            return {t.lemma_.lower() for t in head}, chunk.root.lemma_.lower()
    return set(), None


def _asked_noun_phrase(doc, wh: int):
    """The noun phrase a which/what question asks about: "which X", or "what is the X (of Y)". None otherwise."""
    chunks = {chunk.start: chunk for chunk in doc.noun_chunks}
    start = wh + 1
    if start in chunks and chunks[start].root.i > wh:
        return chunks[start]
    for chunk in doc.noun_chunks:  # "which X" where spaCy folds the wh-word into the phrase
        if chunk.start == wh and chunk.root.i > wh:
            return chunk
    if start < len(doc) and doc[start].lemma_ == "be":
        chunk = next((c for c in doc.noun_chunks if c.start in (start + 1, start + 2)), None)
        if chunk is not None and chunk.root.lemma_.lower() in QUESTION_FILLER and chunk.end < len(doc) and doc[chunk.end].lower_ == "of":
            chunk = next((c for c in doc.noun_chunks if c.start == chunk.end + 1), None)  # "the name of X"
        return chunk
    return None


def _head_noun_types(doc, wh: int) -> tuple[str, set[str]]:
    """Types from the head of the noun phrase the question asks about ("which university" → ORG)."""
    chunk = _asked_noun_phrase(doc, wh)
    if chunk is None:
        return "phrase", set()
    compounds = [t for t in chunk.root.children if t.dep_ == "compound"]
    for noun in [chunk.root] + compounds:  # "budget proposal": the proposal is a budget, so money
        if noun.lemma_.lower() in HEAD_NOUN_TYPES:
            return noun.lemma_.lower(), HEAD_NOUN_TYPES[noun.lemma_.lower()]
    return "phrase", set()


def expected_types(doc) -> tuple[str, set[str]]:
    words = [t.lower_ for t in doc]
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word in ("who", "whom", "whose"):
            return "person", PERSON | ORGANISATION
        if word == "where":
            return "place", PLACE | ORGANISATION
        if word == "when":
            return "date", DATE
        if word == "how":
            if nxt == "much":
                kind, labels = _head_noun_types(doc, i + 2)
                return ("money", MONEY) if labels in (MONEY, set()) else ("amount", AMOUNT)
            if nxt == "many":
                return "count", COUNT  # QUANTITY is the weaker reading: "how many zones" wants "seven", not "16.79㎢"
            if nxt in ("large", "big", "wide", "vast"):
                return "size", SIZE
            if nxt == "long":
                return "date", DATE
            return "phrase", set()
        if word in ("which", "what"):
            object_question = i + 1 < len(doc) and doc[i + 1].pos_ == "AUX" and doc[i + 1].lemma_ != "be"
            # "What did the province spend": the wh-word is the object; the noun after it is the subject.
            kind, labels = ("phrase", set()) if object_question else _head_noun_types(doc, i)
            if not labels and any(t.lemma_.lower() in MONEY_VERBS for t in doc if t.pos_ == "VERB"):
                return "money", MONEY
            return kind, labels
    return "phrase", set()


def analyse(question: str, nlp: Language) -> Question:
    doc = nlp(question, disable=ENTITY_PIPES)  # the rules read the question's words and parse, not its entities
    kind, expected = expected_types(doc)
    secondary = expected & ORGANISATION if kind in ("person", "place") else set()
    if kind == "count":
        secondary = {"QUANTITY"}
    terms = []
    for token in doc:
        lemma = token.lemma_.lower()
        if not is_content(token) or lemma in QUESTION_FILLER:
            continue
        if token.i > 0 and doc[token.i - 1].lower_ == "how":
            continue  # "how large", "how long": the question's form, not its topic
        if lemma not in terms:
            terms.append(lemma)
    head, root = wh_phrase_head(doc)
    return Question(
        text=question, terms=terms, expected=expected, kind=kind, secondary=secondary, head=head, root=root
    )
