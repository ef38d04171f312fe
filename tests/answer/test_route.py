"""Routing: a question's wording chooses a short span or a few sentences; the caller's form wins."""

import pytest

from rag.answer.route import choose_form, route
from rag.errors import RagError


@pytest.mark.parametrize("question, style", [
    ("Summarize the article about Gyeonggi Province.", "summary"),
    ("Tell me about Gwangju's plan to nurture talent.", "about"),
    ("What happened at the AI expo?", "event"),
    ("What did the committee find about deaths in custody?", "about"),
    ("Which Chinese AI companies did Zhejiang graduates found?", "list"),
    ("What did the directors agree to pay, and why is it significant?", "event"),
    ("How does the feature work, and why are users worried?", "why"),
    ("What are the main reasons for the fall?", "list"),
])
def test_open_questions_get_sentences(question, style):
    assert route(question).form == "sentences" and route(question).style == style


@pytest.mark.parametrize("question", [
    "Who is the president of Zhejiang University?",
    "How much national budget did Gwangju secure this year?",
    "How many AI companies has Gwangju attracted?",
    "Which Chinese university did Gwangju's mayor visit on the 25th?",
    "When will the data center open?",
    "Why did Gwangju's mayor visit Zhejiang University?",  # one reason: the span reader answers it better
    "What are the names of Hitachi's two robots?",
])
def test_short_questions_get_a_span(question):
    assert route(question).form == "span"


def test_the_callers_form_wins_and_an_unknown_form_is_an_error():
    assert choose_form("Who is the mayor?", "sentences").form == "sentences"
    assert choose_form("Summarize the news.", "span").form == "span"
    assert choose_form("Summarize the news.").style == "summary"
    with pytest.raises(RagError, match="unknown answer form 'essay'"):
        choose_form("Who?", "essay")
