import pytest

from rag.language.text import extend_amount, trim_span


def test_trim_span_removes_articles_and_punctuation():
    text = 'at the "Kim Dae-jung Convention Center", then'
    start, end = trim_span(text, 3, 40)
    assert text[start:end] == "Kim Dae-jung Convention Center"


@pytest.mark.parametrize("text, span, amount", [
    ("It secured 62.6 billion KRW this year.", "62.6 billion", "62.6 billion KRW"),
    ("a fund of 1 trillion won by 2030", "1 trillion", "1 trillion won"),
    ("on a 46,200㎡ site", "46", "46,200㎡"),
    ("covering 16.79㎢ in all", "16", "16.79㎢"),
    ("it costs 5,000 won each", "5,000", "5,000 won"),
    ("a gap of 20 billion over the plan", "20", "20 billion"),
])
def test_a_span_ending_inside_an_amount_takes_the_whole_amount(text, span, amount):
    start = text.index(span)
    assert text[start : extend_amount(text, start + len(span))] == amount


@pytest.mark.parametrize("text, span", [
    ("5 people came", "5"),  # a counted noun is not a unit
    ("Its team of 2019 won the cup", "2019"),  # a year, then the verb
    ("Kim Won spoke", "Kim"),  # not an amount at all
    ("a 25% rise", "25%"),
])
def test_other_spans_keep_their_end(text, span):
    start = text.index(span)
    assert extend_amount(text, start + len(span)) == start + len(span)


def test_a_span_starting_at_a_bullet_starts_at_its_first_word():
    text = "two goals: ▲ fostering talent ▲ local settlement"
    start, end = trim_span(text, text.index("▲"), text.index(" ▲ local"))
    assert text[start:end] == "fostering talent"
