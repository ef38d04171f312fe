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


def test_pronouns_take_the_latest_fitting_name(nlp):
    from rag.conversation import standalone

    turns = [("user", "Who is the president of Zhejiang University?"), ("assistant", "Ma Yanming [1]")]
    assert standalone(turns + [("user", "What is his plan for it?")], nlp) == \
        "What is Ma Yanming's plan for Zhejiang University?"
    assert standalone([("user", "What did he say?")], nlp) == "What did he say?"  # nobody to refer to
    assert standalone(turns + [("user", "How many students are there?")], nlp) == "How many students are there?"


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
