"""Papers in huggingface.co's JSON shapes (and its Markdown paper page), so that its clients read paperfeed unchanged.

Field names and nesting follow huggingface.co's recorded /api/daily_papers responses and what `huggingface_hub`'s
PaperInfo reads. Fields paperfeed has no data for (media, discussion ids, avatars; for a paper, whatever is not
known yet: an AI summary, GitHub stars, the artifacts citing it) are left out rather than invented; `huggingface_hub`
reads every one of them as optional.
"""

from __future__ import annotations

import re
from datetime import date

from django.template.loader import render_to_string

from paperfeed.api.services.hf_papers import ListedPaper
from paperfeed.papers.models import Organization, paper_extras
from paperfeed.papers.services import extras_shown

# Ids and timestamps as huggingface.co writes them: a day is midnight UTC, with milliseconds.
_ISO_DAY = "{}T00:00:00.000Z"


def iso_day(day: date | None) -> str | None:
    return _ISO_DAY.format(day.isoformat()) if day else None


def _present(fields: dict) -> dict:
    """The fields that have a value: absent data is left out, as huggingface.co leaves it out."""
    return {key: value for key, value in fields.items() if value is not None}


def hf_user(username: str, fullname: str) -> dict:
    """A member as huggingface.co shows a user (`user` is the key huggingface_hub reads the username from)."""
    return {"fullname": fullname, "user": username, "name": username, "type": "user"}


def hf_organization(organization: Organization | None) -> dict | None:
    """An organization as huggingface.co shows one: `name` is its handle (our slug), `fullname` what people read."""
    if organization is None:
        return None
    return {"name": organization.slug, "fullname": organization.name}


def _authors(listed: ListedPaper) -> list[dict]:
    authors = []
    for name in listed.card.authors:
        author: dict = {"name": name, "hidden": False}
        confirmed = listed.confirmed.get(name)
        if confirmed:
            # A claim staff approved is what huggingface.co calls a verified claim.
            author = {"user": hf_user(confirmed, listed.fullname(confirmed)), **author, "status": "claimed_verified"}
        authors.append(author)
    return authors


def paper_object(listed: ListedPaper) -> dict:
    """The paper as /api/papers/{id} returns it, and as the `paper` of a daily-list item."""
    card, paper = listed.card, listed.card.paper
    submitter = hf_user(card.submitted_by, listed.fullname(card.submitted_by)) if card.submitted_by else None
    return _present(
        {
            "id": paper.arxiv_id,
            "authors": _authors(listed),
            "publishedAt": iso_day(paper.published),
            "submittedOnDailyAt": iso_day(listed.day),
            "title": paper.title,
            "submittedOnDailyBy": submitter,
            "summary": paper.abstract,
            "upvotes": card.upvotes,
            "projectPage": paper.project_url or None,
            "githubRepo": paper.code_url or None,
            "githubStars": extras_shown.stars(paper),
            "organization": hf_organization(paper.organization),
            **_summary(paper),
        }
    )


def _summary(paper) -> dict:
    """The paper's AI summary and keywords (from Hugging Face's list or this site's summarizer), if it has one."""
    extras = paper_extras(paper)
    if extras is None or not extras.summary:
        return {}
    return {"ai_summary": extras.summary, "ai_keywords": list(extras.summary_keywords)}


def linked_artifacts(listed: ListedPaper) -> dict:
    """linkedModels, linkedDatasets, linkedSpaces and their totals as huggingface_hub's PaperInfo reads them (each
    item with the id, likes, downloads and, for a Space, sdk that the refresh keeps); left out when Hugging Face was
    never asked about the paper."""
    paper = listed.card.paper
    citing = extras_shown.citing(paper_extras(paper), paper.arxiv_id)
    if citing is None:
        return {}
    found = {cited.kind: cited for cited in citing}
    fields: dict = {}
    for kind, name in (("models", "Models"), ("datasets", "Datasets"), ("spaces", "Spaces")):
        cited = found.get(kind)
        fields[f"linked{name}"] = list(cited.items) if cited else []
        fields[f"numTotal{name}"] = cited.total if cited else 0
    return fields


def paper_info(listed: ListedPaper) -> dict:
    """The body of /api/papers/{id}: the paper, with its comment count and the models, datasets and Spaces citing
    it, as huggingface_hub reads them."""
    return {**paper_object(listed), "numComments": listed.card.comment_count, **linked_artifacts(listed)}


def daily_item(listed: ListedPaper) -> dict:
    """One item of /api/daily_papers (and of /api/papers/search): the paper, then the listing's own fields."""
    card, paper = listed.card, listed.card.paper
    submitter = hf_user(card.submitted_by, listed.fullname(card.submitted_by)) if card.submitted_by else None
    return _present(
        {
            "paper": paper_object(listed),
            # On huggingface.co the item's publishedAt is when the paper went on the daily list.
            "publishedAt": iso_day(listed.day),
            "title": paper.title,
            "summary": paper.abstract,
            "numComments": card.comment_count,
            "submittedBy": submitter,
            "organization": hf_organization(paper.organization),
        }
    )


# --- the paper page as Markdown ---

# Raw HTML is the one thing in Markdown that a renderer passes through to a page: a `<` that could open a tag (or
# an autolink) is escaped, so titles like "<script>…" read as text. A `<` before a space or digit, as in
# "n < 10", stays as it is, and so does LaTeX.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_text(text: str) -> str:
    """Text to put in Markdown as text: no tag or autolink can start in it."""
    return _TAG_START.sub(r"\\<", text)


def link_target(url: str) -> str:
    """A URL as a Markdown link destination: parentheses, spaces and angle brackets cannot end the link early."""
    return re.sub(r"[()<>\s]", lambda m: f"%{ord(m.group(0)):02X}", url)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def paper_markdown(listed: ListedPaper, page_url: str) -> str:
    """The paper page as Markdown (GET /papers/{id}.md): title, authors, links, figures and the abstract."""
    card, paper = listed.card, listed.card.paper
    authors = [
        markdown_text(name) + (f" (@{listed.confirmed[name]})" if name in listed.confirmed else "")
        for name in card.authors
    ]
    version = f"v{paper.version}" if paper.version else ""
    context = {
        "title": markdown_text(_one_line(paper.title)),
        "authors": ", ".join(authors),
        "organization": markdown_text(paper.organization.name) if paper.organization else "",
        "arxiv_id": paper.arxiv_id + version,
        "abs_url": link_target(paper.abs_url + version),
        "pdf_url": link_target(paper.pdf_url + version),
        "page_url": markdown_text(page_url),
        "page_target": link_target(page_url),
        "project_url": markdown_text(paper.project_url),
        "project_target": link_target(paper.project_url),
        "code_url": markdown_text(paper.code_url),
        "code_target": link_target(paper.code_url),
        "published": _long_date(paper.published) if paper.published else "",
        "listed": _long_date(listed.day) if listed.day else "",
        "submitted_by": markdown_text(card.submitted_by),
        "submitter_fullname": markdown_text(listed.fullname(card.submitted_by)),
        "upvotes": card.upvotes,
        "comments": card.comment_count,
        "categories": ", ".join(paper.categories),
        "abstract": markdown_text(paper.abstract.strip()),
    }
    return render_to_string("api/paper.md", context).strip() + "\n"
