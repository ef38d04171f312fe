"""User-facing failures: the CLI and the API turn these into one clear line, never a traceback.

Each class carries the HTTP status the service answers it with, so a subclass maps without a table."""


class RagError(Exception):
    """A problem the user can fix (bad input, missing folder, unknown backend)."""

    status = 400


class TooLong(RagError):
    """A document, or what extracting one would make, over the limits."""

    status = 413


class NoSuchDocument(RagError):
    """The id names no indexed document."""

    status = 404


class LastDocument(RagError):
    """Removing it would leave nothing to index."""

    status = 409


class ReadOnlyStore(RagError):
    """The store answers questions but cannot change documents (a PostgreSQL read replica)."""

    status = 409


class DocumentConflict(RagError):
    """A new id would take over a file the corpus already holds under another id."""

    status = 409


class DatabaseError(RagError):
    """The database cannot be used as it is: unreachable at start, without pgvector, or indexed with other settings."""


class DatabaseUnavailable(DatabaseError):
    """The database went away while serving; retrying later works once it is back."""

    status = 503


class IndexMissing(RagError):
    """No index has been built in this folder yet."""


class IndexCorrupt(RagError):
    """The files on disk cannot be trusted; rebuilding fixes it."""


class ModelFileError(RagError):
    """A reader model file is missing, truncated, changed, or does not match the others."""


class ModelUnavailable(RagError):
    """The configured weights are not on this machine."""


class GeneratorUnavailable(ModelUnavailable):
    """The generator's server did not answer; retrying later may work."""

    status = 503
