"""`rag eval`: score retrieval, answers, citations, abstention and latency on a question set."""
