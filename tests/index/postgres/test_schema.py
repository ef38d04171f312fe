"""The tables and the writes' SQL (rag/index/postgres/schema.py), against a real PostgreSQL (pgserver)."""

import psycopg

from rag.index.postgres.schema import INT4, INT4_OID, TEXT_OID, array


def test_stems_and_counts_are_copied_as_the_arrays_they_are(database_url):
    rows = [["gwangju", "ai", "budget", "null", "ünïcode"], ["x"], []]
    with psycopg.connect(database_url) as connection:
        connection.execute("CREATE TEMPORARY TABLE arrays (n int, stems text[], tfs int4[])")
        with connection.cursor().copy("COPY arrays FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "bytea", "bytea"])
            for n, stems in enumerate(rows):
                counts = [len(s) * 1000 for s in stems]
                copy.write_row((n, array([s.encode() for s in stems], TEXT_OID),
                                array([INT4.pack(c) for c in counts], INT4_OID)))
        back = connection.execute("SELECT stems, tfs, cardinality(stems) FROM arrays ORDER BY n").fetchall()
    assert back == [(stems, [len(s) * 1000 for s in stems], len(stems)) for stems in rows]
