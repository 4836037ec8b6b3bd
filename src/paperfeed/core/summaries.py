"""A paper's summary from an OpenAI-compatible chat endpoint: the request's messages, and the answer read back.

Pure Python: the service (papers.services.summarizer) sends the request and stores the result. Models differ in
how well they follow instructions and not every server supports `response_format`, so the answer is read
robustly (a JSON object as the whole content, or in a fenced block, after any `<think>` reasoning) and validated
strictly: anything else is refused with a reason, never stored half-read.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

SYSTEM_PROMPT = (
    "You summarize scientific papers for a list of new papers. Given a paper's title and abstract, answer with "
    'one JSON object and nothing else: {"summary": "…", "keywords": ["…", …]}. The summary is one or two plain '
    "sentences (no more than 60 words) saying what the paper does and finds, without markdown, HTML or "
    'phrases such as "This paper". The keywords are 3 to 8 short terms (one to four words each) for its topics '
    "and methods."
)
MAX_ABSTRACT = 6000  # characters sent: an abstract longer than this is cut (small local models have small contexts)
MAX_SUMMARY = 600  # characters kept: a longer answer did not follow the instructions and is refused
MAX_KEYWORD = 60
MAX_KEYWORDS = 8


class SummaryError(ValueError):
    """An answer that cannot be used; `kind` groups problems for logging ("format", "content")."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Summary:
    text: str
    keywords: list[str]


def messages(title: str, abstract: str) -> list[dict[str, str]]:
    """The chat messages asking for one paper's summary."""
    abstract = " ".join(abstract.split())
    if len(abstract) > MAX_ABSTRACT:
        abstract = abstract[:MAX_ABSTRACT].rsplit(" ", 1)[0] + " …"
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Title: {' '.join(title.split())}\n\nAbstract: {abstract}"},
    ]


def completion_content(body: bytes) -> str:
    """The assistant's text in a chat-completions answer (`choices[0].message.content`)."""
    try:
        answer = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise SummaryError("format", f"the answer is not JSON: {_excerpt(body)}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
        raise SummaryError("format", f"the answer is not a chat completion (no choices list): {_excerpt(body)}")
    if not answer["choices"]:
        raise SummaryError("format", "the chat completion has no choices")
    choice = answer["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise SummaryError("format", "the chat completion's first choice has no message content")
    if isinstance(choice, dict) and choice.get("finish_reason") == "length":
        raise SummaryError("content", "the model stopped at its token limit before finishing the answer")
    return content


_THINKING = re.compile(r"^\s*<think>.*?</think>", re.S)
_FENCED = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MARKUP = re.compile(r"\*\*|__|`")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"}  # control, format (zero-width, bidi), separators


def parse_summary(content: str) -> Summary:
    """The summary and keywords in the model's answer, cleaned; SummaryError("content", …) if there are none."""
    text = _THINKING.sub("", content).strip()
    found = _json_object(text)
    if found is None:
        fenced = _FENCED.search(text)
        found = _json_object(fenced.group(1).strip()) if fenced else None
    if found is None:
        raise SummaryError("content", f"the model's answer holds no JSON object: {_excerpt(text)}")
    summary = found.get("summary")
    if not isinstance(summary, str):
        raise SummaryError("content", 'the model\'s JSON has no "summary" text')
    summary = _clean(summary)
    if not summary:
        raise SummaryError("content", "the model's summary is empty")
    if len(summary) > MAX_SUMMARY:
        raise SummaryError("content", f"the model's summary has {len(summary)} characters (at most {MAX_SUMMARY})")
    keywords = found.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise SummaryError("content", 'the model\'s "keywords" is not a list of words')
    kept: list[str] = []
    for keyword in map(_clean, keywords):
        if keyword and len(keyword) <= MAX_KEYWORD and keyword.casefold() not in {k.casefold() for k in kept}:
            kept.append(keyword)
    return Summary(summary, kept[:MAX_KEYWORDS])


def _json_object(text: str) -> dict | None:
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _clean(text: str) -> str:
    """Plain text on one line: no control or format characters, HTML tags or markdown emphasis."""
    text = "".join(" " if unicodedata.category(c) in _INVISIBLE else c for c in text)
    text = _MARKUP.sub("", _TAG.sub("", text))
    return " ".join(text.split())


def _excerpt(text: bytes | str, most: int = 120) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(text.split())
    return repr(text[:most] + ("…" if len(text) > most else ""))
