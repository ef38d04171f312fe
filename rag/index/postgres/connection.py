"""Connections to the database: one clear error when it cannot be reached or goes away, and never its
password in a message."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from rag.errors import DatabaseError, DatabaseUnavailable, ReadOnlyStore

CHECKOUT_TIMEOUT_S = 0.8  # a request waits this long for a working connection, then answers 503 (an outage)
CONNECT_TIMEOUT_S = 5  # a reconnect to an unreachable host gives up after this, unless the URL sets its own


def read_only(url: str) -> ReadOnlyStore:
    return ReadOnlyStore(f"the database at {redacted(url)} is a read-only replica: it answers questions, but adding "
                         "or removing documents and `rag index` must go to the primary")


def redacted(url: str) -> str:
    """The connection string without its password, in any form libpq takes. The password is found by psycopg's
    own parser (libpq's rules: a URL password may hold an unencoded `@` or `?`), then every spelling of it is
    masked: as written, percent-encoded, and as `password=` in a query or in `key=value` words."""
    try:
        words = conninfo_to_dict(url)
    except psycopg.Error:
        return "(a connection string that cannot be parsed)"
    if not re.match(r"[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):  # key=value words
        if "password" in words:
            words["password"] = "***"
        return make_conninfo("", **words)
    scheme = re.match(r"[a-z][a-z0-9+.-]*://", url, re.IGNORECASE)
    rest = url[scheme.end():]
    slash = rest.find("/")
    authority_end = rest.rfind("@", 0, slash if slash >= 0 else len(rest))
    if authority_end >= 0:  # a password with an unencoded `@`: everything before the last @ is user[:password]
        user, colon, _ = rest[:authority_end].partition(":")
        rest = f"{user}{':***' if colon else ''}{rest[authority_end:]}"
    return _masked(scheme.group() + rest, spellings(words.get("password") or ""))


def spellings(password: str) -> list[str]:
    return [password, quote(password, safe=""), quote(password)] if password else []


def _masked(text: str, secrets: list[str]) -> str:
    text = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def without_password(text: str, url: str) -> str:
    """A driver message with every spelling of the URL's password masked; it may also quote a host read out of
    a password holding `@` (its pieces of three characters or more are masked too)."""
    secrets = []
    with contextlib.suppress(psycopg.Error):
        secrets += spellings(conninfo_to_dict(url).get("password") or "")
    userinfo = re.match(r"[a-z][a-z0-9+.-]*://(.*)@", url, re.IGNORECASE | re.DOTALL)
    if userinfo and ":" in userinfo.group(1):
        secrets += [piece for piece in userinfo.group(1).partition(":")[2].split("@") if len(piece) >= 3]
    return _masked(text.replace(url, redacted(url)), secrets)


def connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise DatabaseError(f"cannot connect to the database at {redacted(url)}: "
                            f"{without_password(reason, url)}") from None


class Pool(ConnectionPool):
    """psycopg's pool, where a database that went away is one clear, retryable error (503) within a second,
    not 30 s of waiting and a driver traceback; the pool reconnects by itself once the database is back."""

    def __init__(self, url: str, **kwargs):
        super().__init__(url, **kwargs)
        self.url = url

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        try:
            with super().connection(timeout=timeout) as connection:
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as exc:
            reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
            # Clients (503 bodies of /health and /ask) get no connection details; the server's log gets them.
            logging.getLogger("rag").warning("database unavailable at %s: %s", redacted(self.url),
                                             without_password(reason, self.url))
            raise DatabaseUnavailable("the database is unavailable; retry shortly") from None


def open_pool(url: str, ef_search: int) -> Pool:
    from pgvector.psycopg import register_vector

    def configure(connection: psycopg.Connection) -> None:
        register_vector(connection)
        connection.execute(f"SET hnsw.ef_search = {int(ef_search)}")
        # Plans made for the values at hand: "no document filter" then lets the planner use the HNSW index.
        connection.execute("SET plan_cache_mode = force_custom_plan")
        connection.commit()

    timeouts = {} if "connect_timeout" in conninfo_to_dict(url) else {"connect_timeout": CONNECT_TIMEOUT_S}
    # check: a connection broken by a database restart is replaced on checkout instead of failing a request
    pool = Pool(url, min_size=1, max_size=8, configure=configure, open=False, kwargs=timeouts,
                timeout=CHECKOUT_TIMEOUT_S, check=ConnectionPool.check_connection)
    pool.open(wait=True, timeout=15)
    return pool
