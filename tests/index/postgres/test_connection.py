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
    "postgresql://nobody:hun?ter2@127.0.0.1:9/rag",  # a ? in the password once ended the search for its end
    "postgresql://nobody:Se?cr=ter2@/rag?host=127.0.0.1&port=9",
    "postgresql://nobody:hun%3Fter2@127.0.0.1:9/rag",  # percent-encoded
])
def test_no_form_of_connection_string_shows_its_password(url):
    assert "ter2" not in redacted(url) and "127.0.0.1" in redacted(url) or "cannot be parsed" in redacted(url)
    with pytest.raises(DatabaseError) as raised:
        connect(url)
    assert "ter2" not in str(raised.value) and str(raised.value).startswith("cannot connect to the database at")


def test_an_outage_message_for_clients_names_no_connection_details():
    """The 503 bodies of /health and /ask come from this message: no URL, no host, no password."""
    from rag.index.postgres.connection import Pool

    pool = Pool("postgresql://nobody:Se?cr=ter2@127.0.0.1:9/rag", min_size=1, open=False, timeout=0.2,
                kwargs={"connect_timeout": 1})
    pool.open(wait=False)
    try:
        with pytest.raises(Exception) as raised:
            with pool.connection(timeout=0.5):
                pass
    finally:
        pool.close()
    text = str(raised.value)
    assert "unavailable" in text and "ter2" not in text and "127.0.0.1" not in text and "postgresql" not in text
