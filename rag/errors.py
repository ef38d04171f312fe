"""User-facing failures: the CLI and the API turn these into one clear line, never a traceback."""


class RagError(Exception):
    """A problem the user can fix (bad input, missing folder, unknown backend)."""


class TooLong(RagError):
    """A document, or what extracting one would make, over the limits: HTTP 413."""
