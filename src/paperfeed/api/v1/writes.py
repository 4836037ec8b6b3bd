"""The operations of /api/v1 that change things, with an API token: votes, submissions, collections, and who the
token belongs to. Refusals keep the words of the services (and of the site's own pages)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from ninja import Path, Router, Status

from paperfeed.api import schemas as out
from paperfeed.api.security import RateLimit
from paperfeed.api.v1.common import (
    MAX_ID,
    PAGE,
    READ,
    WRITE,
    ApiRefusal,
    bearer,
    card_page,
    check_page,
    responses,
    user_of,
)
from paperfeed.community.models import Collection
from paperfeed.community.services import collections as saved
from paperfeed.community.services.permissions import profile_of
from paperfeed.community.services.submissions import AlreadySubmitted, SubmissionError, submit_paper
from paperfeed.community.services.votes import VoteRefused, set_vote, votable_paper
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.services.cards import cards_for_ids

COLLECTION_PAGE_SIZE = 50

# --- votes ---

votes = Router(tags=["Votes"])


def _vote(request: HttpRequest, arxiv_id: str, up: bool) -> dict:
    """`arxiv_id`: the paper's address, an arXiv id or source:id (the name is the API's since before sources)."""
    parsed = parse_address(arxiv_id)
    paper = votable_paper(parsed) if parsed else None
    if paper is None:
        raise Http404(f"There is no paper “{arxiv_id[:64]}” to vote on here.")
    try:
        count = set_vote(user_of(request), paper, up)
    except VoteRefused as refused:
        raise ApiRefusal(403, str(refused)) from None
    return {"id": paper.address, "arxiv_id": paper.arxiv_id, "upvotes": count, "voted": up}


@votes.post(
    "/papers/{path:arxiv_id}/vote",
    response=responses(out.VoteOut, 401, 403, 404),
    url_name="vote",
    summary="Upvote a paper",
    **WRITE,
)
def upvote(request: HttpRequest, arxiv_id: str) -> dict:
    """Upvote the paper as the token's owner; upvoting twice leaves one vote."""
    return _vote(request, arxiv_id, up=True)


@votes.delete(
    "/papers/{path:arxiv_id}/vote",
    response=responses(out.VoteOut, 401, 403, 404),
    url_name="unvote",
    summary="Take back an upvote",
    **WRITE,
)
def unvote(request: HttpRequest, arxiv_id: str) -> dict:
    """Take back the token owner's upvote of the paper (nothing happens when there is none)."""
    return _vote(request, arxiv_id, up=False)


# --- submissions ---

submissions = Router(tags=["Submissions"])


@submissions.post(
    "/submissions",
    response=responses(out.SubmissionOut, 400, 401, 403, 409, 503, status=201),
    url_name="submissions",
    summary="Submit a paper to today's list",
    **WRITE,
)
def submit(request: HttpRequest, payload: out.SubmissionIn) -> Status:
    """Put an arXiv paper on today's daily list as the token owner's submission (fetched from arXiv when new here).

    Refusals keep the submission page's words: 403 when the account may not submit (banned, email not
    confirmed), 409 when the paper is already submitted today, 429 over the daily limit, 503 when arXiv cannot
    be reached.
    """
    try:
        submission = submit_paper(user_of(request), payload.paper)
    except AlreadySubmitted as taken:
        details = {"arxiv_id": taken.entry.paper.arxiv_id, "day": taken.entry.day.isoformat()}
        raise ApiRefusal(taken.status, str(taken), details) from None
    except SubmissionError as refused:
        raise ApiRefusal(refused.status, str(refused)) from None
    entry = submission.entry
    card = cards_for_ids([entry.paper_id], first_day_from=entry.day)[0]
    body = {
        "id": card.paper.address,
        "arxiv_id": card.paper.arxiv_id,
        "day": entry.day,
        "fetched": submission.fetched,
        "paper": out.paper_summary(request, card),
    }
    return Status(201, body)


# --- collections ---

collections = Router(tags=["Collections"])
COLLECTION_ID = Path(..., ge=1, le=MAX_ID, description="The collection's number.")


def _collection_out(request: HttpRequest, collection: Collection) -> dict:
    count = getattr(collection, "paper_count", None)
    return out.collection_out(request, collection, len(saved.paper_ids(collection)) if count is None else count)


def _visible_collection(request: HttpRequest, collection_id: int) -> Collection:
    found = saved.visible_collection(collection_id, request.auth.user)
    if found is None:
        raise Http404(f"There is no collection number {collection_id}, or it is private.")
    return found


def _owned_collection(request: HttpRequest, collection_id: int) -> Collection:
    found = _visible_collection(request, collection_id)
    try:
        saved.check_owner(user_of(request), found)
    except saved.CollectionRefused as refused:
        raise ApiRefusal(refused.status, refused.message) from None
    return found


def _curate(action, *args, **kwargs):
    """Run a collections service call, turning its refusals into API errors."""
    try:
        return action(*args, **kwargs)
    except saved.CollectionRefused as refused:
        raise ApiRefusal(refused.status, refused.message) from None


@collections.get(
    "/collections",
    response=responses(out.CollectionList, 401, 404),
    url_name="collections",
    summary="Your collections",
    auth=bearer,
    throttle=RateLimit(),
)
def my_collections(request: HttpRequest, page: int = PAGE) -> dict:
    """The token owner's collections, public and private, newest first."""
    found = Paginator(saved.collections_of(user_of(request)), COLLECTION_PAGE_SIZE)
    check_page(page, found.num_pages)
    current = found.page(page)
    return out.paged(request, current, [_collection_out(request, c) for c in current.object_list])


@collections.post(
    "/collections",
    response=responses(out.CollectionOut, 400, 401, 403, 404, status=201),
    url_name="collection-create",
    summary="Make a collection",
    **WRITE,
)
def create_collection(request: HttpRequest, payload: out.CollectionIn) -> Status:
    """A new collection of the token's owner; its slug is made from the name."""
    made = _curate(saved.create_collection, user_of(request), payload.name, payload.description, payload.public)
    return Status(201, out.collection_out(request, made, 0))


@collections.get(
    "/collections/{collection_id}",
    response=responses(out.CollectionOut, 401, 404),
    url_name="collection",
    summary="A collection",
    **READ,
)
def collection(request: HttpRequest, collection_id: int = COLLECTION_ID) -> dict:
    """A public collection, or one of your own (with your token)."""
    return _collection_out(request, _visible_collection(request, collection_id))


@collections.delete(
    "/collections/{collection_id}",
    response=responses(None, 401, 403, 404, status=204),
    url_name="collection-delete",
    summary="Delete a collection",
    **WRITE,
)
def delete_collection(request: HttpRequest, collection_id: int = COLLECTION_ID) -> Status:
    """Delete one of your collections (the papers stay on the site)."""
    _curate(saved.delete_collection, user_of(request), _owned_collection(request, collection_id))
    return Status(204, None)


@collections.get(
    "/collections/{collection_id}/papers",
    response=responses(out.PaperPage, 401, 404),
    url_name="collection-papers",
    summary="A collection's papers",
    **READ,
)
def collection_papers(request: HttpRequest, collection_id: int = COLLECTION_ID, page: int = PAGE) -> dict:
    """The collection's papers, most recently added first."""
    ids = Paginator(saved.paper_ids(_visible_collection(request, collection_id)), COLLECTION_PAGE_SIZE)
    check_page(page, ids.num_pages)
    current = ids.page(page)
    current.object_list = cards_for_ids(list(current.object_list))
    return card_page(request, current, page)


def _set_paper(request: HttpRequest, collection_id: int, arxiv_id: str, add: bool) -> dict:
    parsed = parse_address(arxiv_id)
    if parsed is None:
        raise ApiRefusal(
            400,
            f"“{arxiv_id[:64]}” is not a paper id: write an arXiv id like 2503.11731, or source:id.",
            {"parameter": "arxiv_id"},
        )
    found = _visible_collection(request, collection_id)  # set_paper says who may change its papers
    paper = _curate(saved.set_paper, user_of(request), found, str(parsed), add=add)
    return {"collection": found.id, "id": paper.address, "arxiv_id": paper.arxiv_id, "in_collection": add}


@collections.post(
    "/collections/{collection_id}/papers",
    response=responses(out.CollectionPaperOut, 400, 401, 403, 404),
    url_name="collection-add",
    summary="Add a paper to a collection",
    **WRITE,
)
def add_to_collection(request: HttpRequest, payload: out.CollectionPaperIn, collection_id: int = COLLECTION_ID) -> dict:
    """Add a paper to one of your collections; adding it twice keeps it once."""
    return _set_paper(request, collection_id, payload.arxiv_id, add=True)


@collections.delete(
    "/collections/{collection_id}/papers/{path:arxiv_id}",
    response=responses(out.CollectionPaperOut, 400, 401, 403, 404),
    url_name="collection-remove",
    summary="Take a paper out of a collection",
    **WRITE,
)
def remove_from_collection(request: HttpRequest, arxiv_id: str, collection_id: int = COLLECTION_ID) -> dict:
    """Take a paper out of one of your collections."""
    return _set_paper(request, collection_id, arxiv_id, add=False)


# --- the token's owner ---

accounts = Router(tags=["You"])


@accounts.get(
    "/me",
    response=responses(out.MeOut, 401),
    url_name="me",
    summary="Who the token belongs to",
    auth=bearer,
    throttle=RateLimit(),
)
def me(request: HttpRequest) -> dict:
    """The account and token this request was made with: a quick way to check a token works."""
    token = request.auth.token
    return {
        "username": token.user.get_username(),
        "display_name": profile_of(token.user).display_name,
        "token": {"name": token.name, "prefix": token.prefix, "created_at": token.created_at},
    }
