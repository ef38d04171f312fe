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
    q = analyse("What is the core project of the initiative?", nlp)
    assert q.expected == set() and 0 < q.type_fit(None) < q.type_fit("ORG")


def test_terms_skip_question_words_and_how_adjectives(nlp):
    assert analyse("How large is the AI data center site?", nlp).terms == ["ai", "data", "center", "site"]
    assert analyse("Who is the president of Zhejiang University?", nlp).terms == ["president", "zhejiang", "university"]


def test_head_noun_of_the_asked_phrase(nlp):
    q = analyse("Which techno valley does the province have?", nlp)
    assert q.root == "valley" and q.head == {"techno", "valley"}
    assert analyse("What was lifted to secure the project site?", nlp).expected == set()  # "site" is not asked about
    assert "MONEY" in analyse("What was the government's initial budget proposal?", nlp).expected


def test_numbers_never_answer_where(nlp):
    assert analyse("Where was the meeting held?", nlp).type_fit("DATE") == 0.0


def test_organisations_are_a_weaker_answer_to_who(nlp):
    q = analyse("Who signed the agreement?", nlp)
    assert q.type_fit("PERSON") == 1.0 and q.type_fit("ORG") == 0.5 and q.type_fit("DATE") == 0.0
