"""Connections (rag/index/postgres/connection.py): a password never shows, in any form libpq takes."""

import pytest

from rag.errors import DatabaseError
from rag.index.postgres.connection import connect, redacted


@pytest.mark.slow
@pytest.mark.parametrize("url", [
    "postgresql://nobody:hunter2@127.0.0.1:9/rag",
    "postgresql://nobody:hun@ter2@127.0.0.1:9/rag",  # an unencoded @ in the password
    "postgresql://nobody@127.0.0.1:9/rag?sslmode=disable&password=hunter2",
    "host=127.0.0.1 port=9 user=nobody password=hunter2 dbname=rag",
    "host=127.0.0.1 password='hunter2' =broken",  # the driver cannot parse it, and may quote it
])
def test_no_form_of_connection_string_shows_its_password(url):
    assert "ter2" not in redacted(url) and "127.0.0.1" in redacted(url) or "cannot be parsed" in redacted(url)
    with pytest.raises(DatabaseError) as raised:
        connect(url)
    assert "ter2" not in str(raised.value) and str(raised.value).startswith("cannot connect to the database at")
