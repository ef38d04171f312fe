"""The web page in a real browser: Debian's Chromium, driven headless by Playwright, against a live `rag serve`."""

import os
import shutil

import pytest

from rag.tools.bench import server as live_server

CHROMIUM = os.environ.get("RAG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium), as .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(pipeline, tmp_path_factory):
    log = tmp_path_factory.mktemp("page") / "server.log"
    with live_server.running(pipeline.settings.source_dir, pipeline.settings.index_dir, log) as server:
        yield server


def rewriting(kind: str, change):
    """A route handler passing the server's event stream on with each event of `kind` changed by `change`."""
    import json

    def handle(route):
        events = []
        for event in route.fetch().text().split("\n\n"):
            if event.startswith(f"event: {kind}"):
                name, data = event.split("\n", 1)
                event = f"{name}\ndata: {json.dumps(change(json.loads(data.removeprefix('data: '))))}"
            events.append(event)
        route.fulfill(status=200, headers={"content-type": "text/event-stream"}, body="\n\n".join(events))

    return handle


def ask(page, question: str) -> None:
    page.fill("#question", question)
    page.click("#ask")


def opened(browser, server):
    page = browser.new_page()
    page.goto(server.url)
    return page


def test_question_answer_and_highlighted_citation(browser, server):
    page = opened(browser, server)
    ask(page, "How much national budget did Gwangju secure this year?")
    page.wait_for_selector("#answer a.cite")
    assert page.inner_text("#answer").startswith("62.6 billion KRW [1]")

    highlight = page.wait_for_selector("#source mark#highlight")
    assert "62.6 billion KRW" in highlight.inner_text()
    cited = page.inner_text("#citations li.active")
    assert highlight.inner_text() in cited  # the highlighted sentence is the quoted one

    ask(page, "What is the capital of France?")
    page.wait_for_selector("#closest")
    assert page.inner_text("#answer").startswith("I don't know")
    assert page.query_selector("#answer a.cite") is None

    page.evaluate("document.getElementById('question').removeAttribute('required')")  # let the server judge
    ask(page, " ")
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert "empty" in page.inner_text("#error")


def test_clicking_a_marker_highlights_that_citation(browser, server):
    page = opened(browser, server)
    ask(page, "Who is the mayor of Hangzhou?")
    page.wait_for_selector("#source mark#highlight")
    page.evaluate("document.getElementById('source').replaceChildren()")  # forget the automatic first view
    page.click("#answer a.cite[data-n='1']")
    assert "Yao Gaoyuan" in page.wait_for_selector("#source mark#highlight").inner_text()
    # The box opened at the cited sentence, deep in the article, with the article's title still in view.
    assert page.evaluate("document.getElementById('source').scrollTop") > 0
    assert visible_in_source(page, "#source h2") and visible_in_source(page, "#source mark#highlight")


def visible_in_source(page, selector: str) -> bool:
    return page.evaluate("""(selector) => {
        const box = document.getElementById('source').getBoundingClientRect();
        const r = document.querySelector(selector).getBoundingClientRect();
        return r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.height > 0;
    }""", selector)


def test_the_highlight_is_right_after_emoji_and_markup_in_an_article_stays_text(browser, pipeline, tmp_path):
    from tests.conftest import SEEDS

    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "seeds" / "emoji.txt").write_text(
        "Festival News 🎉🎉\n\nThe lantern festival 🏮🏮🏮 drew crowds. "
        "The Mudeung lantern festival was organised by Baek Harin this spring.\n", encoding="utf-8")
    (tmp_path / "seeds" / "markup.txt").write_text(
        "Harbour <img src=x onerror=\"window.injected=1\"> News\n\nThe harbour ferry <script>window.injected=2"
        "</script> was built by Ahn Doyun <img src=y onerror=\"window.injected=3\"> in Mokpo last year.\n",
        encoding="utf-8")
    with live_server.running(tmp_path / "seeds", tmp_path / "index", tmp_path / "server.log") as server:
        page = opened(browser, server)
        ask(page, "Who organised the Mudeung lantern festival?")
        highlight = page.wait_for_selector("#source mark#highlight")
        assert highlight.inner_text() == "The Mudeung lantern festival was organised by Baek Harin this spring."

        ask(page, "Who built the harbour ferry?")
        page.wait_for_function("document.querySelector('#source mark#highlight')?.innerText.includes('Ahn Doyun')")
        assert "<script>window.injected=2</script>" in page.inner_text("#source mark#highlight")  # shown, not run
        assert "<img src=x" in page.inner_text("#source")
        assert page.evaluate("window.injected") is None and page.query_selector("#source img, #citations img") is None


QUESTION = "How much national budget did Gwangju secure this year?"


@pytest.mark.parametrize("width, height", [(1280, 800), (375, 740)])
def test_the_answer_stays_in_view_beside_or_above_its_source(browser, server, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url)
    assert page.locator("label[for=question]").is_visible()
    ask(page, QUESTION)
    page.wait_for_selector("#source mark#highlight")
    assert any(url.endswith("/ask/stream") for url in requested)  # the answer streams in
    assert page.inner_text("#answer-span") == "62.6 billion KRW"  # the answer itself, inside the cited sentence
    answer, source = page.locator("#answer").bounding_box(), page.locator("#source").bounding_box()
    assert 0 <= answer["y"] and answer["y"] + answer["height"] <= height  # still on screen
    if width >= 960:
        assert source["x"] >= answer["x"] + answer["width"]  # beside
    else:
        assert source["y"] >= answer["y"] + answer["height"]  # below
    mark = page.locator("#highlight").bounding_box()
    assert source["y"] <= mark["y"] <= source["y"] + source["height"]  # scrolled to, inside the source box


def test_citations_and_closest_passages_are_reachable_by_keyboard(browser, server):
    page = opened(browser, server)
    page.focus("#question")
    page.keyboard.type("Who is the mayor of Hangzhou?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#citations li button")
    page.evaluate("document.getElementById('source').replaceChildren()")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#citations') !== null"):
            break
    page.keyboard.press("Enter")
    assert "Yao Gaoyuan" in page.wait_for_selector("#source mark#highlight").inner_text()

    ask(page, "What is the capital of France?")
    page.wait_for_selector("#closest")
    assert page.inner_text("#reason").startswith("Why: ")
    assert page.locator("#citations li button").count() >= 1


def test_the_documents_panel_lists_uploads_and_deletes(browser, pipeline, tmp_path):
    from tests.conftest import live_copy

    upload = tmp_path / "busan-port.txt"
    upload.write_text("Busan opens a robotics port\n\nThe city of Busan said on Monday that its robotics port will "
                      "cost 3.2 trillion won.\n")
    with live_copy(pipeline, tmp_path / "copy", env={"RAG_API_KEY": "s3cret"}) as server:
        page = opened(browser, server)
        page.click("#documents summary")
        page.wait_for_selector("#document-list li")
        assert page.locator("#document-list li").count() == 5 and page.locator("#api-key").is_visible()
        page.set_input_files("#upload", str(upload))
        page.fill("#api-key", "wrong")
        page.click("#upload-button")
        page.wait_for_function("document.getElementById('documents-status').textContent.includes('Bearer')")
        page.fill("#api-key", "s3cret")
        page.fill("#upload-published", "2031-05-06")
        page.fill("#upload-byline", "Kim Minji")
        page.click("#upload-button")
        page.wait_for_function("document.getElementById('documents-status').textContent === 'Added busan-port.'")
        assert page.locator("#document-list li").count() == 6
        assert "2031-05-06" in page.locator("#document-list li[data-id='busan-port']").inner_text()
        page.click("#upload-button")  # the same file again
        page.wait_for_function("document.getElementById('documents-status').textContent === 'Replaced busan-port.'")
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.click("#document-list li[data-id='busan-port'] button.delete")  # asked first; "Cancel" keeps it
        assert "busan-port" in asked[0] and page.locator("#document-list li").count() == 6
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#document-list li[data-id='busan-port'] button.delete")
        page.wait_for_function("document.querySelectorAll('#document-list li').length === 5")


def test_without_writes_the_panel_lists_opens_documents_and_says_why_it_cannot_change_them(browser, server):
    page = opened(browser, server)
    page.click("#documents summary")
    page.wait_for_selector("#document-list li")
    assert not page.locator("#writes").is_visible() and page.locator("#document-list button.delete").count() == 0
    assert "--allow-writes" in page.inner_text("#writes-off") and page.locator("#writes-off").is_visible()
    opener = page.locator("#document-list button.open").first
    title = opener.inner_text()
    opener.click()
    page.wait_for_function("document.querySelector('#source h2')?.textContent.length > 0")
    assert page.inner_text("#source h2") == title and len(page.inner_text("#source")) > 500
    assert " 1 passages" not in page.inner_text("#document-list")


def test_an_unsure_answer_looks_different_and_says_so(browser, server):
    """The server's real answer, re-marked "low" on its way to the page: the page must show the difference."""
    page = browser.new_page()

    page.route("**/ask/stream", rewriting("answer", lambda answer: answer | {"confidence": "low", "score": 0.75}))
    page.goto(server.url)
    ask(page, "How much national budget did Gwangju secure this year?")
    page.wait_for_selector("#answer.unsure a.cite")
    assert "Not sure" in page.inner_text("#reason")
    plain = opened(browser, server)
    ask(plain, "How much national budget did Gwangju secure this year?")
    plain.wait_for_selector("#answer a.cite")
    assert plain.query_selector("#answer.unsure") is None  # the same answer as the server sends it: "high"


def test_a_line_separator_inside_a_quote_reaches_the_page_whole(browser, server):
    """U+2028 and U+2029 are line ends to a JavaScript regex but plain characters in JSON and in SSE."""
    import json

    from fastapi.sse import format_sse_event

    quote = "The port opens\u2028in 2031\u2029for ships."
    body = format_sse_event(event="answer", data_str=json.dumps({"quote": quote}, ensure_ascii=False)).decode()
    page = opened(browser, server)
    received = page.evaluate("""async (body) => {
        for await (const [name, data] of events(new Response(body))) return [name, data.quote];
    }""", body)
    assert received == ["answer", quote]


def test_the_page_keeps_the_conversation_and_shows_how_a_follow_up_was_understood(browser, server):
    """ "Which university did he visit?" was once answered with no note that "he" was not resolved."""
    page = opened(browser, server)
    ask(page, "Which university did he visit?")  # nothing before it: "he" cannot be resolved, and the page says so
    page.wait_for_function("document.getElementById('understood').textContent.includes('he')")
    assert 'could not tell what "he" refers to' in page.inner_text("#understood")
    page.click("#new-conversation")
    ask(page, "Who is the mayor of Gwangju?")
    page.wait_for_selector("#answer a.cite")
    ask(page, "Which university did he visit?")
    page.wait_for_function("document.getElementById('understood').textContent.startsWith('Understood as')")
    understood = page.inner_text("#understood")
    assert "Which university did Kang" in understood and " he " not in understood
    page.click("#new-conversation")
    ask(page, "Which university did he visit?")
    page.wait_for_function("document.getElementById('understood').textContent.startsWith('Note')")


def test_a_citation_links_its_articles_source_url_when_it_is_a_web_address(browser, server):
    """The page never linked the article's source URL."""
    page = browser.new_page()
    urls = iter(["https://example.com/budget", "javascript:alert(1)"])
    page.route("**/ask/stream", rewriting("citation", lambda citation: citation | {"url": next(urls, None)}))
    page.goto(server.url)
    ask(page, "Tell me about Gwangju's plan to nurture talent.")
    link = page.wait_for_selector("#citations li a.source-link")
    assert link.get_attribute("href") == "https://example.com/budget" and "noopener" in link.get_attribute("rel")
    assert len(page.query_selector_all("#citations li a.source-link")) == 1  # javascript: is never a link
