"""Connections (rag/index/postgres/connection.py): a password never shows, in any form libpq takes."""

import pytest

from rag.errors import DatabaseError
from rag.index.postgres.connection import connect, redacted


def test_no_form_of_connection_string_shows_its_password(url):
    assert "ter2" not in redacted(url) and "127.0.0.1" in redacted(url) or "cannot be parsed" in redacted(url)
    with pytest.raises(DatabaseError) as raised:
        connect(url)
    assert "ter2" not in str(raised.value) and str(raised.value).startswith("cannot connect to the database at")
