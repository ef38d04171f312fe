"""Every question the README asks of the seeds is answered, and answered right: a new user's first try."""

import re

from rag.tools.evaluation.metrics import token_f1
from tests.conftest import ROOT

ANSWERS = {  # what the seeds say; a new example question in the README needs its answer here
    "How much national budget did Gwangju secure this year?": ["62.6 billion KRW"],
    "Who is the president of Zhejiang University?": ["Ma Yanming"],
    "Who is the mayor of Gwangju?": ["Kang Gi-jung", "Kang Gijeong"],
    "Who is the mayor of Hangzhou?": ["Yao Gaoyuan"],
}
ASKED = re.compile(r'(?:rag ask |Q=|\.ask\(|"role": "user", "content": )"([^"]+\?)"')


def readme_questions() -> set[str]:
    text = (ROOT / "README.md").read_text()
    return {q for q in ASKED.findall(text) if "Busan" not in q}  # the Busan article is added by the example itself


def test_every_question_in_the_readme_is_answered_correctly(pipeline):
    questions = readme_questions()
    assert questions and questions <= set(ANSWERS), questions - set(ANSWERS)
    for question in sorted(questions):
        result = pipeline.ask(question)
        assert not result.abstained, (question, result.reason)
        assert token_f1(result.text, ANSWERS[question]) >= 0.5, (question, result.text)


OPEN = {"Tell me about Gwangju's plan to nurture talent.": "talent"}  # the README's open question: a word it needs


def test_the_readmes_open_question_gets_cited_sentences(pipeline):
    asked = set(re.findall(r'rag ask "([^"]+\.)"', (ROOT / "README.md").read_text()))
    assert asked and asked <= set(OPEN), asked - set(OPEN)
    for question in asked:
        result = pipeline.ask(question)
        assert result.form == "sentences" and not result.abstained, (question, result.reason)
        assert OPEN[question] in result.text.lower() and len(result.citations) >= 2
