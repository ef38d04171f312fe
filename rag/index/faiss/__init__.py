"""The `faiss` store: files in the index folder, for one machine. store.py is the index as one immutable value,
vectors.py the FAISS flat/IVF index inside it, build.py builds it from the corpus folder, persist.py writes
generations under the writer lock, folder.py keeps the corpus folder and the index together (the writes)."""
