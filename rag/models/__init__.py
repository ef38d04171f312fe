"""Trained models shipped with the package (see reader/MODEL_CARD.md)."""
