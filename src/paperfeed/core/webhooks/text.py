"""Escaping for each receiver's markup, and trimming measured after escaping.

Slack's mrkdwn treats only `&`, `<` and `>` as markup (links and mentions are `<…>`), so those three are all it
escapes (https://docs.slack.dev/messaging/formatting-message-text#escaping). Discord's and Mattermost's Markdown
honour a backslash before any ASCII punctuation; every character that can start a link, a mention, an emphasis or
an autolink (`http\\://` is not a link) is escaped, and an `@` is followed by a zero-width space so that neither
`@everyone` nor `@channel` is ever a mention, whatever the receiver's mention settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

ELLIPSIS = "…"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:&])")
_SPACES = re.compile(r"\s+")
ZERO_WIDTH_SPACE = "\u200b"


def one_line(text: str) -> str:
    """Line breaks, tabs and runs of spaces as one space: a title never starts a line of markup of its own."""
    return _SPACES.sub(" ", str(text)).strip()


def slack_escape(text: str) -> str:
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", one_line(text)).replace("@", "@" + ZERO_WIDTH_SPACE)


def link_url(url: str) -> str:
    """A URL that cannot end the link it is written in: spaces, brackets, pipes and quotes percent-encoded."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


def fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """`escape(text)`, or the longest start of `text` that fits in `limit` characters once escaped, with "…"."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    text = one_line(text)
    low, high = 0, len(text)
    while low < high:  # the longest prefix whose escaped form, with the ellipsis, fits
        middle = (low + high + 1) // 2
        if len(escape(text[:middle].rstrip()) + ELLIPSIS) <= limit:
            low = middle
        else:
            high = middle - 1
    return escape(text[:low].rstrip()) + ELLIPSIS


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
