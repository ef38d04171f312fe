"""Unanswerable copies of answerable questions: one thing changed, to something their paragraph lacks."""

from rag.settings import Settings
from rag.tools.evaluation.qa_lines import Example
from rag.tools.train.perturb import with_perturbed

MODEL = Settings().spacy_model


def example(id: str, context: str, question: str, answer: str) -> Example:
    return Example(id, "", context, question, [answer], [context.index(answer)])


PIER = example("p1", "Fishing boats have used the harbour since 1891, when the first pier was built.",
               "When was the first pier built?", "1891")
CITY = example("c1", "In 1990 about 2.1 million people lived in Paris, and 1.4 million in Munich.",
               "How many people lived in Paris in 1990?", "2.1 million")
ROME = example("r1", "Rome had a population of 2.8 million in 2001, according to the census of Italy.",
               "What was the population of Rome in 2001?", "2.8 million")


def changed_words(old: str, new: str) -> str:
    """The words of `new` that replaced a contiguous part of `old`."""
    start = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    end = 0
    while end < min(len(old), len(new)) - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    start = new.rfind(" ", 0, start) + 1
    stop = new.find(" ", len(new) - end)
    return new[start : stop if stop >= 0 else len(new)].strip("?,.")


def test_a_word_becomes_its_antonym_when_the_paragraph_lacks_the_antonym():
    examples = with_perturbed([PIER], 1.0, 13, MODEL)
    assert examples[0] is PIER
    (copy,) = examples[1:]
    assert copy.question == "When was the last pier built?"
    assert copy.id == "p1-unans" and copy.context == PIER.context and not copy.answerable


def test_no_copy_when_the_only_change_would_still_be_in_the_paragraph():
    lasting = example("p2", PIER.context.replace("since 1891", "since 1891 and the last one in 1930"),
                      PIER.question, "1891")
    assert with_perturbed([lasting], 1.0, 13, MODEL) == [lasting]


def test_every_copy_changes_one_part_to_text_its_paragraph_lacks():
    examples = [PIER, CITY, ROME]
    copies = with_perturbed(examples, 1.0, 7, MODEL)[len(examples):]
    assert copies
    originals = {e.id: e for e in examples}
    for copy in copies:
        original = originals[copy.id.removesuffix("-unans")]
        part = changed_words(original.question, copy.question)
        assert copy.question != original.question and part.strip()
        assert part.lower() not in original.context.lower() and not copy.answerable


def test_the_copies_are_seeded_and_a_zero_share_changes_nothing():
    examples = [PIER, CITY, ROME]
    assert with_perturbed(examples, 1.0, 3, MODEL) == with_perturbed(examples, 1.0, 3, MODEL)
    assert with_perturbed(examples, 0.0, 3, MODEL) == examples
