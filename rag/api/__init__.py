"""The HTTP service: the same pipeline as the CLI, loaded once, served by FastAPI."""
