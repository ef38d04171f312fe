"""Input rules (rag/inputs.py): what the published pattern says is what is accepted, and foreign scripts."""

import re

from hypothesis import given
from hypothesis import strategies as st

from rag.errors import RagError
from rag.inputs import QUESTION_PATTERN, foreign_script, validate_question


@given(st.text(alphabet=st.sampled_from(" \t\n\x0b\x1c\x1f\x00\x07\x7f\u2003aé?"), max_size=12)
       | st.builds(lambda pad, n: pad + "a" * n + pad, st.sampled_from(["", " ", "\n"]), st.integers(1995, 2005)))
def test_the_published_question_pattern_says_exactly_what_is_accepted(question):
    try:
        validate_question(question)
        accepted = True
    except RagError:
        accepted = False
    assert accepted == (re.fullmatch(QUESTION_PATTERN, question) is not None)


def test_a_question_mostly_in_another_script_is_named_by_its_script():
    assert foreign_script("광주는 올해 국비를 얼마나 확보했나?") == "Hangul"
    assert foreign_script("Кто мэр Ханчжоу?") == "Cyrillic"
    assert foreign_script("Who is the mayor of 杭州?") is None  # mostly English: answered as usual
    assert foreign_script("Qui est le maire de Hangzhou ?") is None  # Latin letters are not detected as foreign
