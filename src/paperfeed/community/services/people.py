"""Organizations, authors and authorship claims: who wrote which papers, and which users say they are those authors.

An author is a name (papers.Author, unique by name): two people of the same name are one Author here, so a claim
is always about one name on one paper, and staff confirm it before the name is marked as that user's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from paperfeed.community.models import AuthorClaim
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Author, Authorship, Organization, Paper
from paperfeed.papers.services.cards import cards_for_ids
from paperfeed.papers.services.catalog import paper_by_address

PAGE_SIZE = 20
SLUG_CHARS = 80
MAX_PENDING_CLAIMS = 20  # claims one user may have waiting for a moderator at once
NEWEST_FIRST = ("-published", "-external_id")

Status = AuthorClaim.Status


# --- organization and author pages ---


def organization_by_slug(slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug).first()


def author_by_id(author_id: int) -> Author | None:
    return Author.objects.filter(id=author_id).first()


def _card_page(papers: QuerySet[Paper], page_number: int) -> Page:
    """One page of these papers as cards, newest first; only ids are counted and ordered."""
    ordered = papers.visible().order_by(*NEWEST_FIRST).values_list("id", flat=True)
    page = Paginator(ordered, PAGE_SIZE).get_page(page_number)
    page.object_list = cards_for_ids(list(page.object_list))
    return page


def organization_papers(organization: Organization, page_number: int = 1) -> Page:
    """A page of the organization's papers (PaperCard), newest first, hidden papers left out."""
    return _card_page(Paper.objects.filter(organization=organization), page_number)


def author_papers(author: Author, page_number: int = 1) -> Page:
    """A page of the author's papers (PaperCard), newest first, hidden papers left out."""
    # A subquery, not a join: a name listed twice on one paper must not list the paper twice.
    return _card_page(
        Paper.objects.filter(id__in=Authorship.objects.filter(author=author).values("paper_id")), page_number
    )


def author_slug(name: str) -> str:
    """The readable part of an author page's address ("ada-lovelace", "李雷"); empty for a name of symbols."""
    return slugify(name, allow_unicode=True)[:SLUG_CHARS].strip("-")


def confirmed_users(author: Author) -> list[str]:
    """Usernames of the users staff confirmed as this author (on any paper), in the order confirmed."""
    claims = AuthorClaim.objects.filter(author=author, status=Status.APPROVED).order_by("decided_at", "id")
    return list(dict.fromkeys(claims.values_list("user__username", flat=True)))


def attach_to_organization(papers: QuerySet[Paper], organization: Organization | None) -> int:
    """Attribute these papers to the organization (None: to none); returns how many changed."""
    return papers.exclude(organization=organization).update(organization=organization)


# --- the people of a paper page ---


@dataclass(frozen=True)
class AuthorLine:
    """One name in a paper's author list, with its page and the user confirmed as that author, if any."""

    author_id: int
    name: str
    slug: str
    confirmed_as: str = ""  # username


@dataclass(frozen=True)
class ClaimBox:
    """What the paper page's "Are you an author?" box shows to the person reading it."""

    state: Literal["sign-in", "form", "refused", "pending", "approved", "rejected"]
    claim: AuthorClaim | None = None
    choices: list[AuthorLine] = field(default_factory=list)  # names this user may still claim
    message: str = ""  # why the form is not offered, or what went wrong with the last try


@dataclass(frozen=True)
class PaperPeople:
    authors: list[AuthorLine]
    claim_box: ClaimBox | None  # None: the paper lists no authors


def paper_people(paper: Paper, user: AbstractBaseUser | AnonymousUser, message: str = "") -> PaperPeople:
    """The paper's authors with their confirmed users, and this reader's claim box: one query for the claims (and
    one for a signed-in reader's standing, when they have not claimed this paper yet).

    Expects `paper.authorships` prefetched with their authors (catalog.paper_by_address does that). A pending or
    turned-down claim is shown to its own user only.
    """
    authorships = list(paper.authorships.all())
    shown = Q(status=Status.APPROVED) | Q(user=user) if user.is_authenticated else Q(status=Status.APPROVED)
    claims = AuthorClaim.objects.filter(shown, paper=paper).select_related("user", "author")
    confirmed: dict[int, str] = {}
    own: AuthorClaim | None = None
    for claim in claims:
        if claim.status == Status.APPROVED:
            confirmed.setdefault(claim.author_id, claim.user.username)
        if user.is_authenticated and claim.user_id == user.pk:
            own = claim
    lines = [
        AuthorLine(a.author_id, a.author.name, author_slug(a.author.name), confirmed.get(a.author_id, ""))
        for a in authorships
    ]
    if not lines:
        return PaperPeople(lines, None)
    return PaperPeople(lines, _claim_box(user, own, lines, message))


def _claim_box(
    user: AbstractBaseUser | AnonymousUser, own: AuthorClaim | None, lines: list[AuthorLine], message: str
) -> ClaimBox:
    if not user.is_authenticated:
        return ClaimBox("sign-in")
    if own is not None:
        return ClaimBox(own.status, own, message=message)
    problem = posting_problem(user)
    if problem:
        return ClaimBox("refused", message=problem)
    # A name can appear twice in a list (the same name, two people): offer it once.
    open_names = list({line.author_id: line for line in lines if not line.confirmed_as}.values())
    if not open_names:
        return ClaimBox("refused", message="Every author of this paper has already been confirmed.")
    return ClaimBox("form", choices=open_names, message=message)


# --- claims ---


class ClaimRefused(Exception):
    """A claim that cannot be made; str() says why, in words for the user. `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def claimable_paper(address: PaperAddress) -> Paper | None:
    """The paper (one anyone may see) with its ordered authors, for a claim and the box that answers it."""
    return paper_by_address(address)


def _already(claim: AuthorClaim) -> str:
    name = claim.author.name
    if claim.status == Status.APPROVED:
        return f"You have already claimed this paper: a moderator confirmed you as {name}."
    if claim.status == Status.REJECTED:
        return f"You have already claimed this paper: a moderator did not confirm you as {name}."
    return f"You have already claimed to be {name} on this paper. Your claim is waiting for a moderator."


def claim_authorship(user: AbstractBaseUser | AnonymousUser, paper: Paper, author_id: str | int) -> AuthorClaim:
    """Record the user's claim to be this author of this paper, pending a moderator; one claim per user and paper.

    Raises ClaimRefused when the user may not post, the author is not on the paper, the user already claimed
    this paper, the name is confirmed as someone else, or too many of the user's claims are waiting.
    """
    problem = posting_problem(user)
    if problem:
        raise ClaimRefused(problem, status=403)
    existing = AuthorClaim.objects.filter(user=user, paper=paper).select_related("author").first()
    if existing is not None:
        raise ClaimRefused(_already(existing), status=409)
    try:
        wanted = int(author_id)
    except (TypeError, ValueError):
        wanted = None
    authorship = Authorship.objects.filter(paper=paper, author_id=wanted).select_related("author").first()
    if authorship is None:
        raise ClaimRefused("Choose your name from this paper's list of authors.")
    author = authorship.author
    taken = AuthorClaim.objects.filter(paper=paper, author=author, status=Status.APPROVED).exclude(user=user)
    if taken.exists():
        raise ClaimRefused(
            f"{author.name} on this paper is already confirmed as another user. "
            "If that is a mistake, tell the moderators of this site.",
            status=409,
        )
    pending = AuthorClaim.objects.filter(user=user, status=Status.PENDING).count()
    if pending >= MAX_PENDING_CLAIMS:
        raise ClaimRefused(
            f"You have {pending} claims waiting for a moderator. You can claim more papers once those are decided.",
            status=429,
        )
    try:
        with transaction.atomic():
            return AuthorClaim.objects.create(user=user, paper=paper, author=author)
    except IntegrityError:  # the same claim sent twice at once: the other request recorded it
        existing = AuthorClaim.objects.filter(user=user, paper=paper).select_related("author").first()
        raise ClaimRefused(_already(existing) if existing else "Please try again.", status=409) from None


@dataclass(frozen=True)
class Decisions:
    decided: int
    skipped: list[str]  # claims not approved, and why, in words for the moderator


def decide_claims(claims: QuerySet[AuthorClaim], approve: bool) -> Decisions:
    """Approve or reject these claims now. A name on a paper is confirmed as one user at most: a claim to a name
    already confirmed as someone else is skipped, not approved."""
    now = timezone.now()
    decided, skipped = 0, []
    with transaction.atomic():
        for claim in claims.select_related("user", "author", "paper").order_by("created_at", "id"):
            status = Status.APPROVED if approve else Status.REJECTED
            if claim.status == status:
                continue
            if approve:
                other = AuthorClaim.objects.filter(
                    paper=claim.paper, author=claim.author, status=Status.APPROVED
                ).exclude(pk=claim.pk)
                holder = other.values_list("user__username", flat=True).first()
                if holder is not None:
                    skipped.append(
                        f"{claim.user} as {claim.author} on {claim.paper.source_label}: "
                        f"that name is already confirmed as {holder}."
                    )
                    continue
            claim.status, claim.decided_at = status, now
            claim.save(update_fields=["status", "decided_at"])
            decided += 1
    return Decisions(decided, skipped)
