"""Which form of answer a question wants, from its wording alone: a short span ("Who is the mayor?", "How
much…?", "Which university…?") or a few sentences (summaries, "tell me about", "what happened", why and how,
lists, comparisons). Regular expressions only: the router runs before any model is loaded.

Measured on both news-dev question files (docs/evaluation.md): a short question sent the sentence way, or
an open one sent the span way, costs answers. A plain why/how question ("Why did X skip the cup?") is asked
as often for one reason as for an explanation, and on the dev splits the span reader answered the short ones
far better (F1 0.41 against 0.24 for the best sentence) than sentences added to the open ones, so it stays a
span unless it asks for more ("How does X work, and why…?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.errors import RagError

FORMS = ("auto", "span", "sentences")  # what a caller may ask for; "auto" routes by the question's wording

_OPEN = [  # (style, pattern at the start of the question, lower-cased)
    ("summary", r"(please |can you |could you )?(summari[sz]e|sum up|give (me )?(a |an )?(summary|overview|rundown|"
                r"brief)|(what is|what's|what was) the (latest )?(news|story|gist)|overview of|recap)"),
    ("about", r"(please |can you |could you )?(tell me|talk|say something|explain|describe|outline|what do (the |we )?"
              r"(articles?|reports?|stories|news|papers?|sources?) (say|report|tell|know)|what (is|are) known|"
              r"what (did|does|do) (the |a )?(survey|study|report|research|inquiry|committee|review|poll|analysis|"
              r"figures?) (find|show|say|reveal|conclude))"),
    ("event", r"what (has |had |is |was )?(happen|happened|happening|went on|took place|is going on|changed|"
              r"came out of)|what (did|does|do|has|have|will) (\w+'?s? ){1,8}(announce|agree|find|found|discover|"
              r"reveal|decide|conclude|propose|recommend|promise|say|said|report|call for|unveil|plan)\b|"
              r"what (is|are|was|were) (\w+'?s? ){1,6}(planning|doing|about)\b"),
    ("list", r"(what|which) (are|were) (the |some )?(main |key |biggest |other )?(\w+ )?(reasons|ways|steps|"
             r"measures|ingredients|changes|plans|options|problems|factors|effects|benefits|risks|features|"
             r"points|issues|findings|recommendations|criticisms|details|concerns)|list "),
    ("why", r"what (is|was|are|were) the (main )?reasons"),
    ("compare", r"(compare|how (do|does|did) .+ (compare|differ)|what (is|are) the differences?)"),
]
_OPEN = [(style, re.compile(pattern)) for style, pattern in _OPEN]
# A second question joined to the first ("What did X agree to pay, and why…?") asks for more than a span.
_COMPOUND = re.compile(r",? and (why|how|what|who|which|when|where)\b")
# Words after "how" that ask for a quantity or a date: a span ("How many", "How long", "How old").
_QUANTITY = re.compile(r"how (many|much|long|old|big|large|far|fast|often|tall|high|wide|soon|early|late)\b")
_REASON = re.compile(r"(why|how|for what reason|what caused|what led)\b")  # a span, unless it asks for more
_PLURAL_WHICH = re.compile(r"(which|what) (\w+ ){0,2}(?!names\b)(\w+(?<![su])s|people|children|men|women) (were|are|did|"
                           r"have|had|made|will|could|would|of|to|for|does|do)\b")


@dataclass(frozen=True)
class Route:
    """Attributes:
        form: "span" (a short answer) or "sentences" (a few sentences, up to a length limit).
        style: what kind of open question: summary, about, event, why, how, list, compare; "short" for a span.
    """

    form: str
    style: str


def route(question: str) -> Route:
    """The form of answer the question's wording asks for (a lookup of its first words, microseconds)."""
    text = " ".join(question.lower().split())
    text = re.sub(r"^(and|so|ok|okay|now|then|also)[, ]+", "", text)
    if _QUANTITY.match(text):
        return Route("sentences", "how") if _COMPOUND.search(text) else Route("span", "short")
    for style, pattern in _OPEN:
        if pattern.match(text):
            return Route("sentences", style)
    if _COMPOUND.search(text):
        return Route("sentences", "why" if _REASON.match(text) else "event")
    if reason := _REASON.match(text):
        return Route("span", "why" if reason.group(1) != "how" else "how")
    if _PLURAL_WHICH.match(text):
        return Route("sentences", "list")
    return Route("span", "short")


def choose_form(question: str, form: str = "auto") -> Route:
    """The caller's choice of form wins over the question's wording; "auto" routes.

    Args:
        question: as asked. form: "auto", "span" or "sentences".

    Returns:
        The route the answer takes.
    """
    if form == "auto":
        return route(question)
    if form not in FORMS:
        raise RagError(f"unknown answer form {form!r}; choose one of: {', '.join(FORMS)}")
    routed = route(question)
    return routed if routed.form == form else Route(form, "short" if form == "span" else "about")
