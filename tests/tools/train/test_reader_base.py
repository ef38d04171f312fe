"""A trained reader's int8 ONNX weights become a float32 transformers folder that reads like the reader."""

import json

import numpy as np
import pytest

from rag.answer import PACKAGED_READER
from rag.answer.spans import SpanModel
from rag.errors import RagError
from rag.tools.train.reader_base import encoder_of, is_reader, write_base

QUESTION = "When was the first pier built?"
PASSAGE = ("Fishing boats have used the northern harbour since 1891, when the first pier was built. "
           "The lake is fed by three rivers and reaches a depth of 42 metres near the dam.")


@pytest.mark.slow
def test_the_shipped_reader_becomes_a_float32_model_with_the_same_outputs(tmp_path):
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    assert is_reader(PACKAGED_READER) and not is_reader(tmp_path)
    write_base(PACKAGED_READER, tmp_path / "base")
    model = AutoModelForQuestionAnswering.from_pretrained(str(tmp_path / "base")).eval()
    tokens = AutoTokenizer.from_pretrained(str(tmp_path / "base"))(QUESTION, PASSAGE, return_tensors="pt")
    with torch.no_grad():
        output = model(**tokens)
    reader = SpanModel(PACKAGED_READER)
    feeds = {name: tokens[name].numpy() for name in reader.inputs}
    start, end = reader.session.run(None, feeds)
    for ours, theirs in ((output.start_logits[0].numpy(), start[0]), (output.end_logits[0].numpy(), end[0])):
        assert np.corrcoef(ours, theirs)[0, 1] > 0.99  # only int8 rounding between them
        assert ours.argmax() == theirs.argmax()


def test_a_reader_from_an_encoder_that_cannot_be_found_is_one_clear_error(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"")
    (tmp_path / "reader.json").write_text(json.dumps({"base": "e5-small-enpt"}))
    assert encoder_of(tmp_path) == "e5-small-enpt"
    with pytest.raises(RagError, match="only readers trained from one can be trained further"):
        write_base(tmp_path, tmp_path / "base")
