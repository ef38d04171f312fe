"""The `postgres` store: PostgreSQL + pgvector, one database shared by several `rag serve` replicas.
store.py implements the store contract, connection.py opens the database, schema.py holds the tables and the
writes' SQL."""
