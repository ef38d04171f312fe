"""Training windows: labels point at the answer's tokens, and tokenizers without pair types still work."""

from rag.embed import resolve_model_path
from rag.tools.evaluation.qa_lines import Example
from rag.tools.train.features import windows

EXAMPLE = Example("e1", "Tarsk Bridge", "The bridge was designed by Ilse Marwick and opened in 1962.",
                  "Who designed the bridge?", ["Ilse Marwick"], [26])


def tokenizer(**options):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_model_path("all-MiniLM-L6-v2")), **options)


def test_the_labels_cover_the_answer_tokens():
    words = tokenizer()
    (window,) = windows([EXAMPLE], words, 64, 16, 0.1, 13)
    answer = window["input_ids"][window["start_positions"] : window["end_positions"] + 1]
    assert words.decode(answer) == "ilse marwick"
    assert set(window["token_type_ids"]) == {0, 1}


def test_a_tokenizer_without_pair_types_gets_type_zero_everywhere():
    (window,) = windows([EXAMPLE], tokenizer(model_input_names=["input_ids", "attention_mask"]), 64, 16, 0.1, 13)
    assert window["token_type_ids"] == [0] * len(window["input_ids"])
