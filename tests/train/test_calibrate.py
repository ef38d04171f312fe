"""Re-calibrating a reader rewrites only the calibration section of its model card."""

from rag.train.calibrate import with_calibration

CARD = "# Reader\n\nIntro.\n\n## Calibration (old)\n\nold numbers\n\n## Recipes tried\n\nkept table\n"
SECTION = "\n## Calibration (new)\n\nnew numbers\n"


def test_calibration_replaces_its_section_and_keeps_the_ones_after_it():
    card = with_calibration(CARD, SECTION)
    assert "new numbers" in card and "old numbers" not in card
    assert card.index("## Calibration (new)") < card.index("## Recipes tried")
    assert card.endswith("## Recipes tried\n\nkept table\n")


def test_calibration_is_appended_to_a_card_without_one():
    card = with_calibration("# Reader\n\nIntro.\n", SECTION)
    assert card == "# Reader\n\nIntro.\n" + SECTION
