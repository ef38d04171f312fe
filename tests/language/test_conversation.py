"""Follow-up questions made standalone (rag/language/conversation.py); the chat endpoint's own tests are in
tests/api/test_chat.py."""

from rag.language.conversation import standalone


def test_pronouns_take_the_latest_fitting_name(nlp):
    def asked(*turns):
        return standalone(list(turns), nlp)

    president = [("user", "Who is the president of Zhejiang University?"), ("assistant", "Ma Yanming [1]")]
    assert asked(*president, ("user", "What is his plan for it?")).text == \
        "What is Ma Yanming's plan for Zhejiang University?"
    assert asked(*president, ("user", "What does his university teach?")).text == "What does Zhejiang University teach?"
    assert asked(("user", "What did he say?")).unresolved == ["he"]  # nobody to refer to: asked as written
    assert asked(*president, ("user", "How many students are there?")).text == "How many students are there?"
    # The exchange was about its answer; when that answer was "I don't know", nothing older stands in for it
    # (the example became "Who is Chinese's mayor?").
    heart = ("user", "Which Chinese city is called China's AI heart?")
    unknown = asked(heart, ("assistant", "I don't know based on the indexed documents. (The articles don't say.)"),
                    ("user", "Who is its mayor?"))
    assert unknown.text == "Who is its mayor?" and unknown.unresolved == ["its"]
    known = asked(heart, ("assistant", "Hangzhou [1] (I'm not sure: check the cited source.)"),
                  ("user", "And who is the mayor of that city?"))
    assert known.text == "And who is the mayor of Hangzhou?" and not known.unresolved
    both = asked(("user", "How many tasks did Gyeonggi Province and Gwangju agree on?"), ("assistant", "eight [1]"),
                 ("user", "Which issue will they respond to jointly?"))
    assert both.text == "Which issue will Gyeonggi Province and Gwangju respond to jointly?"
    elliptical = asked(("user", "Where will the AI data center be built?"), ("assistant", "Advanced 3 District [1]"),
                       ("user", "How large is the site?"))
    assert elliptical.text == "How large is the site?" and elliptical.context == "Where will the AI data center be built?"
    assert asked(*president, ("user", "Where is Hangzhou?")).context == ""  # it names its own subject
