"""The OpenAI-compatible endpoint, driven by the official `openai` client against a live `rag serve`."""

import httpx
import pytest

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
