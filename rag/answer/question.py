"""What a question asks for: the answer type it expects and the key terms an answer's passage must cover."""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.language import Language

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

    def type_fit(self, label: str | None) -> float:
        if not self.expected:
            return 1.0 if label else 0.5  # a named thing answers an open question better than a pronoun phrase
        if label in self.secondary:
            return 0.5
        return 1.0 if label in self.expected else 0.0


def _head_noun_types(doc, after: int) -> tuple[str, set[str]]:
    """Types from the head of the first noun phrase after the wh-word that names a kind of thing."""
    for chunk in doc.noun_chunks:
        if chunk.end <= after:
            continue
        head = chunk.root.lemma_.lower()
        if head in HEAD_NOUN_TYPES:
            return head, HEAD_NOUN_TYPES[head]
        if chunk.root.pos_ in ("NOUN", "PROPN") and head not in QUESTION_FILLER:
            return "phrase", set()
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
                return "count", COUNT
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
    doc = nlp(question)
    kind, expected = expected_types(doc)
    secondary = expected & ORGANISATION if kind in ("person", "place") else set()
    terms = []
    for token in doc:
        lemma = token.lemma_.lower()
        if token.is_stop or token.is_punct or token.is_space or lemma in QUESTION_FILLER:
            continue
        if token.i > 0 and doc[token.i - 1].lower_ == "how":
            continue  # "how large", "how long": the question's form, not its topic
        if lemma not in terms:
            terms.append(lemma)
    return Question(text=question, terms=terms, expected=expected, kind=kind, secondary=secondary)
