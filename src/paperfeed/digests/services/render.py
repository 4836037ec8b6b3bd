"""A composed digest as an email: subject, plain-text and HTML parts, and the headers mail clients act on.

The HTML part is a table layout with inline styles (what Gmail, Outlook and Apple Mail all render), light by
default and dark where the client asks for it (`color-scheme` meta tags and a prefers-color-scheme block whose
rules override the inline colours). Every header value is made single-line here: a title or a saved search that
holds a line break must never start a header of its own (Django would refuse the message with BadHeaderError).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from paperfeed.digests.services import links
from paperfeed.digests.services.compose import Digest, DigestItem
from paperfeed.digests.services.schedule import WEEKLY

MAX_SUBJECT_TITLE_CHARS = 90
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
# An address as digests are sent to: one mailbox, no display name, nothing that could end a header.
_ADDRESS = re.compile(r"[^@\s<>,;\"\x00-\x1f\x7f]+@[^@\s<>,;\"\x00-\x1f\x7f]+")


class InvalidAddress(ValueError):
    """A stored address that cannot be written into a To header safely."""


def header_text(value: str, limit: int | None = None) -> str:
    """`value` on one line: line breaks and other control characters become spaces, runs of spaces one space."""
    text = " ".join(_UNSAFE.sub(" ", str(value)).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def recipient(address: str) -> str:
    """The address for the To header; InvalidAddress when it is not exactly one plain address."""
    if not _ADDRESS.fullmatch(address or ""):
        raise InvalidAddress(f"{header_text(address, 80)!r} is not a single valid email address")
    return address


def site_name() -> str:
    """How emails name the site: the display name of the sender (PAPERFEED_EMAIL_FROM), else the site's host."""
    name, _ = parseaddr(header_text(settings.DEFAULT_FROM_EMAIL))
    return name or site_host()


def site_host() -> str:
    return urlsplit(settings.PAPERFEED_SITE_URL).hostname or "localhost"


def subject(digest: Digest, site: str | None = None) -> str:
    """'paperfeed: <the first paper's title> and 4 more', one line."""
    items = digest.items
    lead = header_text(items[0].card.paper.title, MAX_SUBJECT_TITLE_CHARS) if items else "nothing new"
    more = f" and {len(items) - 1} more" if len(items) > 1 else ""
    return header_text(f"{site or site_name()}: {lead}{more}")


# Where a paper's block, rendered once per run, takes the reasons it is in this subscriber's digest.
_REASONS = "\x00reasons\x00"


@dataclass(frozen=True)
class PaperBlock:
    """One paper as both parts of the email show it, rendered once per run (see DigestRenderer)."""

    title: str
    html: str  # with _REASONS where the reasons go
    text: str

    def for_item(self, item: DigestItem) -> tuple[str, str]:
        """The HTML (safe) and text of this paper with the reasons it is in this digest."""
        reasons = " · ".join(item.reasons)
        html = self.html.replace(_REASONS, f" &nbsp;· {escape(reasons)}" if reasons else "")
        return mark_safe(html), self.text.replace(_REASONS, f" · {reasons}" if reasons else "")  # noqa: S308


class DigestRenderer:
    """Builds digest emails. Each paper's block is rendered once per run and reused for every subscriber who
    gets it; only the short outer templates are rendered per email."""

    def __init__(self) -> None:
        self._text = get_template("digests/email/digest.txt")
        self._html = get_template("digests/email/digest.html")
        self._paper_text = get_template("digests/email/_paper.txt")
        self._paper_html = get_template("digests/email/_paper.html")
        self._papers: dict[int, PaperBlock] = {}
        self.site = self._site = site_name()
        self._site_url = settings.PAPERFEED_SITE_URL
        self._host = site_host()
        self._sender = header_text(settings.DEFAULT_FROM_EMAIL)

    def _block(self, item: DigestItem) -> PaperBlock:
        card = item.card
        paper = card.paper
        block = self._papers.get(paper.id)
        if block is None:
            summary = " ".join(card.summary.split())
            shown = {
                "url": self._site_url + reverse("paper", args=[paper.address]),
                "title": " ".join(paper.title.split()),
                "authors": card.authors_line,
                "organization": paper.organization.name if paper.organization_id else "",
                "categories": " · ".join(paper.categories or [paper.primary_category]),
                "upvotes": card.upvotes,
                "summary": summary,
                "summary_text": textwrap.fill(summary, 75, initial_indent="   ", subsequent_indent="   "),
            }
            context = {"paper": shown, "reasons": _REASONS}
            text = self._paper_text.render(context).strip("\n") + "\n"
            block = PaperBlock(shown["title"], self._paper_html.render(context), text)
            self._papers[paper.id] = block
        return block

    def context(self, digest: Digest) -> dict:
        """What both templates show."""
        subscription = digest.subscription
        weekly = digest.period.frequency == WEEKLY
        sections = []
        for section, items in digest.sections:
            if items:
                shown = [self._block(item).for_item(item) for item in items]
                sections.append(
                    {
                        "heading": section.title(weekly),
                        "note": section.note,
                        "html": [h for h, _ in shown],
                        "text": [t for _, t in shown],
                    }
                )
        titles = [self._block(item).title for item in digest.items[:3]]
        return {
            "site": self._site,
            "site_url": self._site_url,
            "subject": subject(digest, self._site),
            "period_label": digest.period.label,
            "frequency": "weekly" if weekly else "daily",
            "sections": sections,
            "count": len(digest.items),
            "preheader": " · ".join(titles),
            "email": subscription.email,
            "manage_url": links.manage_url(subscription),
            "unsubscribe_url": links.unsubscribe_url(subscription),
        }

    def message(self, digest: Digest, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
        """The digest as a multipart email, ready for `connection` (InvalidAddress if the address is unusable)."""
        to = recipient(digest.subscription.email)
        context = self.context(digest)
        message = EmailMultiAlternatives(
            subject=context["subject"],
            body=self._text.render(context),
            from_email=self._sender,
            to=[to],
            connection=connection,
            headers={
                "Message-ID": make_msgid("digest", domain=self._host),
                "Date": formatdate(usegmt=True),
                "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": header_text(f"{self._site} digest <digest.{self._host}>"),
                "Auto-Submitted": "auto-generated",  # RFC 3834: out-of-office replies stay away
            },
        )
        message.attach_alternative(self._html.render(context), "text/html")
        return message
