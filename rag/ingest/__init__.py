"""Stage 1, load: article files become documents. `formats.py` is the one table of file formats and their text
extractors, `clean.py` marks what is article text (headline, body, captions, page furniture), `load.py` reads a
file or a corpus folder into `Document`s with their metadata and the hashes the index records."""
