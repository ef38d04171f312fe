"""Progress on long work (rag/progress.py): a bar on a terminal, one plain line in a log."""

import io

from rag.progress import tracked


def test_in_a_log_progress_is_one_line_without_carriage_returns(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    assert list(tracked(range(5), "Indexing", "doc")) == [0, 1, 2, 3, 4]
    assert log.getvalue() == "Indexing: 5 doc(s)…\n" and "\r" not in log.getvalue()
    log.truncate(0)
    log.seek(0)
    assert len(list(tracked(range(30), "Indexing", "doc"))) == 30
    assert log.getvalue().splitlines() == ["Indexing: 30 doc(s)…"] + [f"Indexing: {n}/30 doc(s)" for n in range(3, 30, 3)]
    assert list(tracked([1], "Indexing", "doc", enabled=False)) == [1]


def test_on_a_terminal_it_is_a_bar(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    assert list(tracked(range(3), "Embedding", "batch")) == [0, 1, 2]
    assert "Embedding" in screen.getvalue() and "\r" in screen.getvalue()
