"""English as the stages need it: spaCy loaded once (nlp.py), span edges and amounts (text.py), and follow-up
questions made standalone (conversation.py)."""
