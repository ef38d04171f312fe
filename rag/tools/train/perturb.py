"""Unanswerable questions made from answerable ones, the way SQuAD 2.0's writers made theirs.

The training data holds few questions that read like they belong to a paragraph but are not answered
by it, yet those are the ones a reader must refuse: "How many students attend X?" over a passage that
counts X's staff. A share of answerable questions is copied with one thing changed so that their own
paragraph no longer answers them: a named entity or number swapped for another of the same kind that
the paragraph does not contain, or a word swapped for its antonym when the paragraph lacks the
antonym. The change is not checked by a person, so a few copies stay answerable; the model card
measures whether the mix helps.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict

from rag.tools.evaluation.qa_lines import Example

ANTONYMS = [("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("most", "least"),
            ("before", "after"), ("earliest", "latest"), ("highest", "lowest"), ("increase", "decrease"),
            ("increased", "decreased"), ("north", "south"), ("east", "west"), ("northern", "southern"),
            ("eastern", "western"), ("older", "younger"), ("oldest", "youngest"), ("longest", "shortest"),
            ("best", "worst"), ("better", "worse"), ("more", "fewer"), ("win", "lose"), ("won", "lost"),
            ("start", "end"), ("started", "ended"), ("begin", "end"), ("began", "ended"), ("early", "late"),
            ("earlier", "later"), ("maximum", "minimum"), ("upper", "lower"), ("inside", "outside"),
            ("public", "private"), ("male", "female"), ("positive", "negative"), ("major", "minor"),
            ("open", "closed"), ("accepted", "rejected"), ("allowed", "banned"), ("rise", "fall"),
            ("success", "failure"), ("successful", "unsuccessful"), ("strong", "weak"), ("high", "low"),
            ("modern", "ancient"), ("internal", "external"), ("import", "export"), ("imported", "exported"),
            ("buy", "sell"), ("bought", "sold"), ("entered", "left"), ("joined", "left"), ("top", "bottom")]
OPPOSITE: dict[str, str] = {}
for _a, _b in ANTONYMS:
    OPPOSITE.setdefault(_a, _b)
    OPPOSITE.setdefault(_b, _a)
LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "DATE", "CARDINAL", "EVENT", "WORK_OF_ART", "FAC", "PRODUCT",
          "LAW", "LANGUAGE", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"}
NUMERIC = {"DATE", "CARDINAL", "QUANTITY", "MONEY", "PERCENT"}  # half the time their digits change instead


def with_perturbed(examples: list[Example], share: float, seed: int, spacy_model: str) -> list[Example]:
    """The examples plus, for about `share` of the answerable ones, an unanswerable copy (id + "-unans")
    whose question was changed; a question with nothing to change gets no copy."""
    rng = random.Random(seed)
    chosen = [e for e in examples if e.answerable and rng.random() < share]
    if not chosen:
        return examples
    from rag.language.nlp import load_nlp

    nlp = load_nlp(spacy_model)
    with nlp.select_pipes(enable=["tok2vec", "ner"]):  # entities only: the model's own, not the press patterns
        parsed = list(nlp.pipe((e.question for e in chosen), batch_size=256))
    pool = defaultdict(list)  # replacements: every entity of the chosen questions, by label
    for doc in parsed:
        for entity in doc.ents:
            if entity.label_ in LABELS:
                pool[entity.label_].append(entity.text)
    made = []
    for example, doc in zip(chosen, parsed):
        question = _changed(example, doc, pool, rng)
        if question:
            made.append(Example(f"{example.id}-unans", example.title, example.context, question))
    return examples + made


def _changed(example: Example, doc, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    context, question = example.context.lower(), example.question
    answers = [a.lower() for a in example.answers]
    options: list = [entity for entity in doc.ents if entity.label_ in LABELS
                     and not any(entity.text.lower() in a or a in entity.text.lower() for a in answers)]
    options += [word for word in re.findall(r"[A-Za-z]+", question) if word.lower() in OPPOSITE]
    rng.shuffle(options)
    for option in options:
        if isinstance(option, str):
            antonym = OPPOSITE[option.lower()]
            if re.search(rf"\b{antonym}\b", context):
                continue
            new = re.sub(rf"\b{option}\b", antonym.capitalize() if option[0].isupper() else antonym, question, count=1)
        else:
            if option.label_ in NUMERIC and rng.random() < 0.5:
                replacement = _other_number(option.text, rng)
            else:
                replacement = rng.choice(pool[option.label_])
            if not replacement or replacement.lower() in context or replacement.lower() == option.text.lower():
                continue
            new = question[: option.start_char] + replacement + question[option.end_char :]
        if new != question:
            return new
    return None


def _other_number(text: str, rng: random.Random) -> str | None:
    """The text with one of its numbers moved a little (a year by up to 30, a count by about a tenth)."""
    numbers = re.findall(r"\d+", text)
    if not numbers:
        return None
    old = rng.choice(numbers)
    value = int(old)
    new = str(value + rng.choice([-1, 1]) * rng.randint(1, max(2, value // 10 if value < 1000 else 30)))
    return None if new.startswith("-") or new == old else text.replace(old, new, 1)
