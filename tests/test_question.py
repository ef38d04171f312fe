import pytest

from rag.answer.question import analyse


@pytest.mark.parametrize(
    "question, kind, label",
    [
        ("Who met the vice governor?", "person", "PERSON"),
        ("Where was the agreement signed?", "place", "GPE"),
        ("When did the delegation arrive?", "date", "DATE"),
        ("How much money was raised?", "money", "MONEY"),
        ("How many companies moved to the city?", "count", "CARDINAL"),
        ("How large is the site?", "size", "QUANTITY"),
        ("Which university hosted the delegation?", "university", "ORG"),
        ("What did the province spend on tourism?", "money", "MONEY"),
    ],
)
def test_expected_answer_type(nlp, question, kind, label):
    q = analyse(question, nlp)
    assert q.kind == kind and label in q.expected


def test_open_questions_expect_any_phrase(nlp):
    q = analyse("What is the name of the startup fund goal?", nlp)
    assert q.expected == set() and q.type_fit(None) == 0.5


def test_terms_skip_question_words_and_how_adjectives(nlp):
    assert analyse("How large is the AI data center site?", nlp).terms == ["ai", "data", "center", "site"]
    assert analyse("Who is the president of Zhejiang University?", nlp).terms == ["president", "zhejiang", "university"]


def test_organisations_are_a_weaker_answer_to_who(nlp):
    q = analyse("Who signed the agreement?", nlp)
    assert q.type_fit("PERSON") == 1.0 and q.type_fit("ORG") == 0.5 and q.type_fit("DATE") == 0.0
