"""The index (stage 4): `store.py` (the value), `vectors.py` (FAISS flat/IVF), `persist.py` (generations,
CURRENT, the writer lock), `build.py` (building, staleness, bringing in changed files)."""
