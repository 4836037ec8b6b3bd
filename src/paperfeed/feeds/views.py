"""Downloads: BibTeX for a paper or a collection."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from paperfeed.core.sources.registry import parse_address
from paperfeed.feeds import citations, lists
from paperfeed.papers.services import catalog

BIBTEX = "application/x-bibtex; charset=utf-8"


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _bibtex(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=BIBTEX)
    # inline: a browser shows the entry to copy; the file name serves "save as" and tools that download it
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


@require_safe
def paper_bibtex(request: HttpRequest, address: str) -> HttpResponse:
    parsed = parse_address(address)
    if parsed is None:
        raise Http404(f"{address[:60]} is not a paper id this site can read")
    paper = catalog.paper_by_address(parsed)
    if paper is None:
        raise Http404(f"{parsed.label} is not on this site")
    return _bibtex(citations.paper_bibtex(paper), citations.bib_filename(paper.external_id))


@require_safe
def collection_bibtex(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    collection = lists.viewable_collection(username, slug, request.user)
    if collection is None:
        raise Http404("There is no such collection, or it is private.")
    text = citations.collection_bibtex(collection, _site_url(request) + request.path.removesuffix(".bib"))
    response = _bibtex(text, citations.bib_filename(collection.slug))
    if not collection.public:
        response["Cache-Control"] = "private"
    return response
