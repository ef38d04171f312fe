import pytest
from pydantic import ValidationError

from rag.settings import Settings


def test_flags_override_environment_override_defaults(monkeypatch):
    assert Settings().k == 5
    monkeypatch.setenv("RAG_K", "7")
    assert Settings.from_flags(k=None).k == 7
    assert Settings.from_flags(k=3).k == 3


def test_invalid_values_are_rejected(monkeypatch):
    with pytest.raises(ValidationError):
        Settings(k=0)
    monkeypatch.setenv("RAG_RETRIEVAL", "sparse")
    with pytest.raises(ValidationError):
        Settings()
