"""The OpenAI-compatible endpoint, driven by the official `openai` client against a live `rag serve`."""

import json

import httpx
import pytest
from tokenizers import Tokenizer

from rag.answer import PACKAGED_READER

from tests.conftest import live_copy

QUESTION = "How much national budget did Gwangju secure this year?"
BUDGET = "002_a41762f22f1f4beb"


@pytest.fixture(scope="module")
def server(pipeline, tmp_path_factory):
    with live_copy(pipeline, tmp_path_factory.mktemp("chat"), env={}) as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.mark.slow
def test_the_openai_client_gets_a_cited_answer(client):
    response = client.chat.completions.create(model="rag-news", messages=[{"role": "user", "content": QUESTION}],
                                              temperature=0.2)
    answer = response.choices[0].message.content
    assert answer.startswith("62.6 billion KRW [1]") and response.choices[0].finish_reason == "stop"
    extra = response.model_extra
    assert extra["citations"][0]["doc_id"] == BUDGET and extra["standalone_question"] == QUESTION
    assert [m.id for m in client.models.list()] == ["rag-news"]
    reader = Tokenizer.from_file(str(PACKAGED_READER / "tokenizer.json"))  # usage counts the reader's tokens
    assert response.usage.prompt_tokens == len(reader.encode(QUESTION, add_special_tokens=False).ids) > 5
    assert response.usage.completion_tokens == len(reader.encode(answer, add_special_tokens=False).ids) > 3
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


@pytest.mark.slow
def test_a_follow_up_is_made_standalone_from_the_earlier_turns(client):
    response = client.chat.completions.create(model="rag-news", messages=[
        {"role": "user", "content": "Who is the president of Zhejiang University?"},
        {"role": "assistant", "content": "Ma Yanming [1]"},
        {"role": "user", "content": "What did he say about talent?"},
    ])
    extra = response.model_extra
    assert extra["standalone_question"] == "What did Ma Yanming say about talent?"
    assert any("Ma Yanming" in c["quote"] for c in extra["citations"] + extra["passages"])


@pytest.mark.slow
def test_streaming_follows_openais_format_and_matches_the_whole_answer(client):
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="rag-news", messages=messages).choices[0].message.content
    pieces = list(client.chat.completions.create(model="rag-news", messages=messages, stream=True))
    assert pieces[0].choices[0].delta.role == "assistant"
    assert "".join(p.choices[0].delta.content or "" for p in pieces) == whole
    assert pieces[-1].choices[0].finish_reason == "stop" and pieces[-1].model_extra["citations"][0]["doc_id"] == BUDGET
    assert all(p.usage is None for p in pieces)

    counted = list(client.chat.completions.create(model="rag-news", messages=messages, stream=True,
                                                  stream_options={"include_usage": True}))
    assert counted[-1].choices == [] and counted[-1].usage.completion_tokens > 0
    assert counted[-1].usage.total_tokens == counted[-1].usage.prompt_tokens + counted[-1].usage.completion_tokens
    assert all(p.usage is None for p in counted[:-1]) and counted[-2].choices[0].finish_reason == "stop"


@pytest.mark.slow
def test_bad_conversations_are_a_clear_4xx(server, client):
    import openai

    with pytest.raises(openai.UnprocessableEntityError, match="last message must be the user's question"):
        client.chat.completions.create(model="rag-news", messages=[{"role": "assistant", "content": "Hello"}])
    response = httpx.post(f"{server.url}/v1/chat/completions", json={"messages": []}, timeout=30)
    assert response.status_code == 422
    response = httpx.post(f"{server.url}/v1/chat/completions", timeout=30,
                          json={"messages": [{"role": "user", "content": QUESTION}], "doc_ids": ["nope"]})
    assert response.status_code == 404 and "nope" in response.json()["error"]["message"]


# Scripted conversations over the seeds, each a few user turns sent one after the other through the `openai`
# client, the assistant's replies fed back as a chat client does; the last answer is checked: (turns, any of
# these in the answer, or "abstain").
CONVERSATIONS = [
    (["Which Chinese city is called China's AI heart?", "Who is its mayor?"], ["Yao Gaoyuan"]),
    (["Which Chinese city is called China's AI heart?", "And who is the mayor of that city?"], ["Yao Gaoyuan"]),
    (["Who is the president of Zhejiang University?", "What does his university specialize in?"],
     ["artificial intelligence talent", "AI talent"]),
    (["Who is the governor of Gyeonggi Province?", "Where did he write in the guestbook?"],
     ["May 18 Democratic Cemetery"]),
    (["How much national budget did Gwangju secure this year?", "How much had the government initially proposed?"],
     ["42.6 billion"]),
    (["What is the AI Industry Convergence Complex Development Project?",
      "How much will it invest over the next five years?"], ["400 billion"]),
    (["How many talents does Gwangju plan to nurture by 2030?", "Where was the strategy meeting held?"],
     ["Gwangju Content Cube", "VX Studio"]),
    (["Who is the vice governor of Zhejiang Province?", "Where did she meet the mayor of Gwangju?"],
     ["InterContinental", "Intercontinental", "Zhejiang Province"]),
    (["How many organizations took part in the 2030 Gwangju Talent Development Strategy Meeting?",
      "Where was it held?"], ["Gwangju Content Cube", "VX Studio"]),
    (["How many tasks did Gyeonggi Province and Gwangju agree on?",
      "Which nuclear plant's wastewater will they respond to jointly?"], ["Fukushima"]),
    (["What is the total project cost of the AX Demonstration Valley?", "Which initiative is it the core project of?"],
     ["AI Phase 2"]),
    (["Hello there!", "Who is his boss?"], "abstain"),
    (["Who is the mayor of Gwangju?", "Which university did he visit in China?"], ["Zhejiang University"]),
    (["Which city did Gwangju form a friendly partnership with?", "Which province is that city in?"], ["Zhejiang"]),
    (["What is the population of Gwangju?", "And what about its area?"], "abstain"),
    (["Who is Kim Dong-yeon?", "Which cemetery did he visit?"], ["May 18 Democratic Cemetery"]),
    (["Where will the AI data center be built?", "How large is the site?"], ["46,200"]),
    (["Which university is renowned as a cradle for AI talent development?", "Who is the president of the university?"],
     ["Ma Yanming"]),
    (["Who did Mayor Kang Gi-jung meet in Hangzhou on September 24?", "What is her title?"], ["Vice Governor"]),
    (["Which Chinese city is called China's AI heart?", "Who is its mayor?",
      "Which university in that province did the Gwangju delegation visit?"], ["Zhejiang University"]),
]
# Known misses, each the reader's, not the follow-up's: strict, so a fix shows up as a pass to record.
MISSES = {
    0: "the reader abstains on the first question, so 'its' points at nothing and is asked as written",
    1: "the reader abstains on the first question, so 'that city' points at nothing and is asked as written",
    2: "rewritten to 'What does Zhejiang University specialize in?', which the reader abstains on",
    16: "the reader abstains on 'How large is the site?' although the AI data center's passage is retrieved",
}


@pytest.mark.slow
@pytest.mark.parametrize("n", [pytest.param(n, marks=pytest.mark.xfail(reason=MISSES[n], strict=True))
                               if n in MISSES else n for n in range(len(CONVERSATIONS))])
def test_scripted_conversations_through_the_openai_client(client, n):
    turns, expected = CONVERSATIONS[n]
    messages: list[dict] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        reply = client.chat.completions.create(model="rag-news", messages=messages)
        messages.append({"role": "assistant", "content": reply.choices[0].message.content})
    extra = reply.model_extra
    if expected == "abstain":
        assert extra["abstained"], messages
    else:
        answer = messages[-1]["content"]
        assert not extra["abstained"] and any(e.lower() in answer.lower() for e in expected), messages


def test_chat_input_is_bounded_before_any_language_processing(pipeline):
    """A huge or broken last message is refused at once; long histories are cut to what a follow-up needs."""
    from fastapi.testclient import TestClient

    from rag.api.app import create_app

    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        huge = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 880_000}]})
        assert huge.status_code == 422 and "longer than 2000" in huge.json()["error"]["message"]
        broken = client.post("/v1/chat/completions", content=b'{"messages": [{"role": "user", "content": "Who \\ud800?"}]}',
                             headers={"content-type": "application/json"})
        assert broken.status_code == 422 and "surrogate" in broken.json()["error"]["message"]
        history = [{"role": "user" if i % 2 == 0 else "assistant", "content": "Gwangju \ud800 " + "y" * 19_000}
                   for i in range(98)] + [{"role": "user", "content": QUESTION}]
        answered = client.post("/v1/chat/completions", content=json.dumps({"messages": history}),  # \ud800 escaped
                               headers={"content-type": "application/json"})
        assert answered.status_code == 200 and "62.6 billion KRW" in answered.json()["choices"][0]["message"]["content"]


def test_an_unsure_answer_says_so_in_words():
    from rag.api.chat import spoken
    from rag.contracts import Result

    unsure = Result(question="q", answer="Kim [1]", abstained=False, text="Kim", confidence="low", score=0.6)
    assert spoken(unsure).startswith("Kim [1]") and "not sure" in spoken(unsure)
    refused = Result(question="q", answer="I don't know based on the indexed documents.", abstained=True,
                     reason="not in the indexed articles: no retrieved passage mentions 'zorblax'")
    assert "Not in the indexed articles" in spoken(refused)


@pytest.mark.slow
def test_what_openai_offers_and_this_server_cannot_do_is_refused_in_openais_shape(client):
    import openai

    messages = [{"role": "user", "content": QUESTION}]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=messages)
    assert caught.value.body["code"] == "model_not_found" and "rag-news" in caught.value.body["message"]
    assert client.models.retrieve("rag-news").id == "rag-news"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    refused = {"n": 2, "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
               "response_format": {"type": "json_object"}}
    for name, value in refused.items():
        with pytest.raises(openai.BadRequestError, match=name):
            client.chat.completions.create(model="rag-news", messages=messages, **{name: value})
    assert client.chat.completions.create(model="rag-news", messages=messages, n=1).choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="stream_options"):
        client.chat.completions.create(model="rag-news", messages=messages, stream_options={"include_usage": True})
