"""Markdown with LaTeX, rendered to HTML that is safe to show anyone: what comments are written in.

CommonMark (plus tables and strikethrough) through markdown-it-py, with `$…$` and `$$…$$` kept away from the
emphasis rules and handed to KaTeX in the page as `\\(…\\)` and `\\[…\\]`. Raw HTML in the text is shown as
text, and the result goes through nh3 with an explicit allow-list, so nothing a writer types can run.

`@username` outside code and links becomes a link to that member's profile when the caller's lookup knows the name
(core knows no members: the caller passes `mentions`); an unknown name stays the text it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from html import escape
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

MAX_CHARS = 10_000
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener ugc"

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
        "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "span", "div",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
ALLOWED_CLASSES = {"span": {"math", "inline", "display"}, "div": {"math", "block"}, "a": {"mention"}}
# Dropped with everything inside them rather than unwrapped, should one ever reach the sanitizer.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "svg", "math", "template"})

# Where a mention links to: a member's profile page. The one relative link the sanitizer keeps (a writer cannot
# make one: the renderer turns only web and mail links into links, and raw HTML is text).
PROFILE_PATH = "/users/"
_PROFILE_LINK = re.compile(re.escape(PROFILE_PATH) + r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}")
# `@name` as usernames are written (letters, digits, dots, dashes, underscores), not inside a word or an address.
_MENTION = re.compile(r"(?<![A-Za-z0-9._@/+-])@([A-Za-z0-9][A-Za-z0-9._-]*)")
USERNAME_CHARS = (3, 30)

# The members a text's `@names` are: given the candidate names (lower-cased), the usernames of those that exist,
# keyed by the lower-cased name (usernames here are unique whatever their case).
MentionLookup = Callable[[Collection[str]], Mapping[str, str]]

# Comment headings sit under the page's h1 and the "Comments" h2: `#` becomes h3, and so on down to h6.
HEADING_SHIFT = 2


class MarkdownTooLong(ValueError):
    """The text is longer than MAX_CHARS; the message says by how much, in words for the writer."""


def _math(content: str, options: dict) -> str:
    delimiters = ("\\[", "\\]") if options.get("display_mode") else ("\\(", "\\)")
    return escape(delimiters[0] + content + delimiters[1], quote=False)


def _link_allowed(url: str) -> bool:
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in LINK_SCHEMES


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"]).disable("image")
    dollarmath_plugin(md, allow_labels=False, allow_space=True, allow_digits=False, double_inline=True, renderer=_math)
    # $$…$$ inside a paragraph is display maths in a span: a div cannot sit inside a <p>.
    md.add_render_rule(
        "math_inline_double",
        lambda self, tokens, idx, options, env: (
            f'<span class="math display">{_math(tokens[idx].content.strip(), {"display_mode": True})}</span>'
        ),
    )
    # A link to anything but the web or an email address stays text, so the writer sees it did not work.
    md.validateLink = _link_allowed
    return md


_MD = _parser()


def _shift_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    """A link without a scheme survives only as a profile link (a mention); nh3 has checked the schemes of the rest."""
    if element == "a" and attribute == "href" and not urlsplit(value).scheme and not _PROFILE_LINK.fullmatch(value):
        return None
    return value


def sanitize_html(html: str) -> str:
    """Keep only the tags, attributes, classes and link schemes a rendered comment needs (and, of relative links,
    only those to a member's profile)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
        url_schemes=set(LINK_SCHEMES),
        url_relative="pass_through",
        attribute_filter=_keep_attribute,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def check_length(text: str, what: str = "A comment") -> None:
    """Refuse a text longer than MAX_CHARS with a message that says how long it is."""
    if len(text) > MAX_CHARS:
        raise MarkdownTooLong(
            f"{what} can be at most {MAX_CHARS:,} characters long; this one has {len(text):,}. "
            "Shorten it and try again."
        )


def _plain_text(tokens: list[Token]) -> Iterator[tuple[list[Token], int]]:
    """(siblings, index) of each text token outside links: where a mention can be (code and maths are other
    tokens)."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        inside_link = 0
        for index, child in enumerate(token.children):
            if child.type == "link_open":
                inside_link += 1
            elif child.type == "link_close":
                inside_link -= 1
            elif child.type == "text" and not inside_link:
                yield token.children, index


def _names(written: str) -> list[str]:
    """What `@written` may name, longest first: a name may end in a dot, so "@ada." is ada. or else ada."""
    shortest, longest = USERNAME_CHARS
    names = [written, written.rstrip("._-")]
    return [name.lower() for name in dict.fromkeys(names) if shortest <= len(name) <= longest]


def _mentions(tokens: list[Token], lookup: MentionLookup) -> dict[str, str]:
    """The members the text's mentions name: {lower-cased name: username}, after one call of `lookup`."""
    candidates = {
        name
        for siblings, index in _plain_text(tokens)
        for match in _MENTION.finditer(siblings[index].content)
        for name in _names(match.group(1))
    }
    return dict(lookup(candidates)) if candidates else {}


def _named(written: str, known: Mapping[str, str]) -> tuple[str, str] | None:
    """(the part of `written` that names a member, their username), or None."""
    for name in _names(written):
        if name in known:
            return written[: len(name)], known[name]
    return None


def _link_mentions(tokens: list[Token], known: Mapping[str, str]) -> None:
    """Replace each known `@name` in the text tokens with a link to the member's profile."""
    for siblings, index in reversed(list(_plain_text(tokens))):
        text = siblings[index].content
        pieces: list[Token] = []
        start = 0
        for match in _MENTION.finditer(text):
            found = _named(match.group(1), known)
            if found is None:
                continue
            written, username = found
            pieces.append(_text(text[start : match.start()]))
            link = Token("link_open", "a", 1, attrs={"href": PROFILE_PATH + username, "class": "mention"})
            pieces += [link, _text("@" + written), Token("link_close", "a", -1)]
            start = match.start() + 1 + len(written)
        if pieces:
            siblings[index : index + 1] = [*pieces, _text(text[start:])]


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def mentioned_usernames(text: str, lookup: MentionLookup) -> list[str]:
    """The usernames of the members `text` mentions (as render_markdown links them), each once, in order."""
    tokens = _MD.parse(text)
    known = _mentions(tokens, lookup)
    found = []
    for siblings, index in _plain_text(tokens):
        for match in _MENTION.finditer(siblings[index].content):
            named = _named(match.group(1), known)
            if named is not None:
                found.append(named[1])
    return list(dict.fromkeys(found))


def render_markdown(text: str, mentions: MentionLookup | None = None) -> str:
    """The text as sanitized HTML, LaTeX left for KaTeX; raises MarkdownTooLong beyond MAX_CHARS characters.

    With `mentions`, each `@name` it knows links to that member's profile."""
    check_length(text)
    tokens = _MD.parse(text)
    _shift_headings(tokens)
    if mentions is not None:
        _link_mentions(tokens, _mentions(tokens, mentions))
    return sanitize_html(_MD.renderer.render(tokens, _MD.options, {})).strip()
