from rag.ingest.clean import clean, is_boilerplate
from tests.conftest import SEEDS

WIDGETS = ["본문 바로가기", "bar_progress", "Text Size", "Close", "Special Coverage", "Join us on social!", "Top",
           "View original image", "Today’s Briefing"]


def blocks_text(name):
    text = (SEEDS / name).read_text(encoding="utf-8")
    title, blocks = clean(text)
    return text, title, blocks


def test_widget_lines_are_boilerplate():
    for line in WIDGETS + ["© The Asia Business Daily(www.asiae.co.kr). All rights reserved.",
                           "This content was produced with the assistance of AI translation services."]:
        assert is_boilerplate(line), line
    assert not is_boilerplate("Gwangju City has officially launched a global initiative.")


def test_no_boilerplate_survives_in_any_seed():
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    for path in seeds:
        text, _, blocks = blocks_text(path.name)
        kept = [text[b.start : b.end] for b in blocks if b.kind != "caption"]
        assert kept, path.name
        for line in kept:
            assert not is_boilerplate(line), (path.name, line)
        assert not any("All rights reserved" in line for line in kept)


def test_headline_becomes_title_and_captions_are_marked():
    text, title, blocks = blocks_text("001_25a75e6ad182f60e.txt")
    assert title == 'Gwangju Joins Hands for Friendly Cooperation with China\'s "AI Heart," Hangzhou'
    captions = [text[b.start : b.end] for b in blocks if b.kind == "caption"]
    assert len(captions) == 1 and captions[0].endswith("Photo by Gwangju City")
    assert [b.kind for b in blocks][:3] == ["title", "subtitle", "subtitle"]


def test_credit_line_caption_and_image_marker_caption():
    text, _, blocks = blocks_text("000_f19b8aa6c8c62442.txt")
    assert any(b.kind == "caption" and text[b.start : b.end].endswith("Provided by Gwangju City") for b in blocks)
    text, title, blocks = blocks_text("002_a41762f22f1f4beb.txt")
    assert [text[b.start : b.end] for b in blocks if b.kind == "caption"] == ["Gwangju City Hall"] * 2
    # No headline in this scrape: the first sentence stands in, without the reporter's byline.
    assert title.startswith("Gwangju Metropolitan City announced on the 14th")


def test_block_offsets_index_the_original_file():
    text, _, blocks = blocks_text("004_d6e588e75c86bf3f.txt")
    body = [b for b in blocks if b.kind == "body"]
    assert text[body[0].start : body[0].end].startswith("Gyeonggi Province and Gwangju Metropolitan City have agreed")
    assert all(text[b.start : b.end] == text[b.start : b.end].strip() for b in blocks)


def test_prose_that_starts_with_a_short_title_is_body_not_a_caption():
    text = "Huguenot\n\nHuguenot numbers peaked near an estimated two million by 1562.\n"
    title, blocks = clean(text)
    assert title == "Huguenot" and [b.kind for b in blocks] == ["title", "body"]


def test_a_lone_headline_repeat_is_kept_as_body_rather_than_leaving_no_text():
    text = "Mayor Visits the Port Today\n\nMayor Visits the Port Today, and speaks with the workers there.\n"
    assert [b.kind for b in clean(text)[1]] == ["title", "body"]
