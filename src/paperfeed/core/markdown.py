"""Markdown with LaTeX, rendered to HTML that is safe to show anyone: what comments are written in.

CommonMark (plus tables and strikethrough) through markdown-it-py, with `$…$` and `$$…$$` kept away from the
emphasis rules and handed to KaTeX in the page as `\\(…\\)` and `\\[…\\]`. Raw HTML in the text is shown as
text, and the result goes through nh3 with an explicit allow-list, so nothing a writer types can run.
"""

from __future__ import annotations

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
ALLOWED_CLASSES = {"span": {"math", "inline", "display"}, "div": {"math", "block"}}
# Dropped with everything inside them rather than unwrapped, should one ever reach the sanitizer.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "svg", "math", "template"})

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


def sanitize_html(html: str) -> str:
    """Keep only the tags, attributes, classes and link schemes a rendered comment needs."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",
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


def render_markdown(text: str) -> str:
    """The text as sanitized HTML, LaTeX left for KaTeX; raises MarkdownTooLong beyond MAX_CHARS characters."""
    check_length(text)
    tokens = _MD.parse(text)
    _shift_headings(tokens)
    return sanitize_html(_MD.renderer.render(tokens, _MD.options, {})).strip()
