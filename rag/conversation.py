"""Follow-up questions made standalone, so retrieval finds their passages without the conversation.

The method: each third-person pronoun of the last question is replaced by the most recent named entity of a
fitting kind in the earlier turns (the user's questions and the assistant's answers, newest turn first, the
first entity of a turn first): a person for he, she, him, his and her; an organisation, place, product, event
or law for it, its, they, them and their. A possessive pronoun becomes "Name's". A question without such a
pronoun, or a conversation without a fitting entity, is used as asked.
"""

from __future__ import annotations

import re

from rag.nlp import ENTITY_PIPES, Language

PERSONAL = {"he", "him", "his", "she", "her"}
IMPERSONAL = {"it", "its", "they", "them", "their"}
PEOPLE = {"PERSON"}
THINGS = {"ORG", "GPE", "FAC", "LOC", "PRODUCT", "EVENT", "LAW", "WORK_OF_ART", "NORP"}


def standalone(turns: list[tuple[str, str]], nlp: Language) -> str:
    """`turns` are (role, text), oldest first, ending with the user's question."""
    question = turns[-1][1].strip()
    doc = nlp(question, disable=ENTITY_PIPES)
    pronouns = [t for t in doc if t.lower_ in PERSONAL | IMPERSONAL]
    if not pronouns:
        return question
    earlier = [re.sub(r"\s*\[\d+\]", "", text) for role, text in turns[:-1] if role in ("user", "assistant")]
    person, thing = latest_entities(earlier, nlp)
    pieces, position = [], 0
    for token in pronouns:
        name = person if token.lower_ in PERSONAL else thing
        if name is None:
            continue
        possessive = token.tag_ == "PRP$" or token.lower_ in {"his", "its", "their"}
        pieces += [question[position : token.idx], name + ("'s" if possessive else "")]
        position = token.idx + len(token.text)
    return "".join(pieces) + question[position:]


def latest_entities(texts: list[str], nlp: Language) -> tuple[str | None, str | None]:
    """(person, thing): the first of each kind in the newest turn that names one; each turn parsed once, newest
    first, and no further back than needed."""
    person = thing = None
    for text in reversed(texts):
        for entity in nlp(text).ents:
            if person is None and entity.label_ in PEOPLE:
                person = entity.text
            elif thing is None and entity.label_ in THINGS:
                thing = entity.text
        if person is not None and thing is not None:
            break
    return person, thing
