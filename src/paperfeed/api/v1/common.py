"""What every /api/v1 operation shares: who may call it, its documented answers, paging, and refusals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page
from django.http import Http404, HttpRequest
from ninja import Query

from paperfeed.api import schemas as out
from paperfeed.api.schemas import ErrorOut
from paperfeed.api.security import BearerToken, RateLimit, anonymous
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.models import Paper
from paperfeed.papers.services import catalog

MAX_PAGE_NUMBER = 100_000
MAX_ID = 2**63 - 1  # the largest id the database stores: larger ones are refused before they reach it

bearer = BearerToken()
# Reads: anyone; a token, when sent, must be valid and raises the rate limit. The empty security requirement
# tells OpenAPI clients that the token is optional.
READ: dict[str, Any] = {"auth": [bearer, anonymous], "throttle": RateLimit(), "openapi_extra": {"security": [{}]}}
WRITE: dict[str, Any] = {"auth": bearer, "throttle": RateLimit(writes=True)}
PAGE = Query(1, ge=1, le=MAX_PAGE_NUMBER, description="Which page, from 1.")


def responses(model: Any, *errors: int, status: int = 200) -> dict[int, Any]:
    """An operation's documented answers: `model` on success, the error shape on the rest (always 422 and 429)."""
    return {status: model} | {code: ErrorOut for code in sorted({*errors, 422, 429})}


class ApiRefusal(Exception):
    """A request a service turned down; answered with `status` and the service's own words."""

    def __init__(self, status: int, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def user_of(request: HttpRequest) -> AbstractBaseUser:
    """The token's owner (only for operations that require a token)."""
    return request.auth.user


def paper_or_404(address: str) -> Paper:
    """The visible paper an address names (catalog.paper_by_address), or a 404 that says whether it is unknown or
    hidden."""
    parsed = parse_address(address)
    if parsed is None:
        raise Http404(
            f"“{address[:64]}” is not a paper id: write an arXiv id like 2503.11731 or hep-th/9901001, or "
            "source:id for a paper of another source."
        )
    paper = catalog.paper_by_address(parsed)
    if paper is None:
        if catalog.is_withheld(parsed):
            raise Http404(f"{parsed.label} has been hidden by a moderator of this site.")
        raise Http404(f"{parsed.label} is not on this site.")
    return paper


def check_page(requested: int, pages: int) -> None:
    """A 404 for a page past the last one (page 1 of an empty list is fine: it is empty)."""
    if requested > max(pages, 1):
        raise Http404(
            f"page={requested} is past the last page: there {'is' if pages == 1 else 'are'} {pages} "
            f"page{'s' if pages != 1 else ''}."
        )


def card_page(request: HttpRequest, page: Page, requested: int) -> dict:
    """The envelope of a page whose object_list holds PaperCards (404 when `requested` is past the last page)."""
    check_page(requested, page.paginator.num_pages)
    return out.paged(request, page, [out.paper_summary(request, card) for card in page.object_list])


def blank(value: str | None) -> str | None:
    """None for a missing or blank parameter, as the site's pages treat `?date=`."""
    return value if value and value.strip() else None
