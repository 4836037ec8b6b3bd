"""Collections: named lists of papers a user curates, kept to themselves or shown to everyone."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.text import slugify

from paperfeed.community.models import Collection, CollectionItem
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.models import Paper, visible_condition

NAME_CHARS = 100
DESCRIPTION_CHARS = 2_000
_SLUG_STEM_CHARS = 90  # room for a "-NN" suffix inside the 100-character slug


class CollectionRefused(Exception):
    """A change to collections that cannot be made; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SaveOption:
    """One of the viewer's collections, and whether the paper on screen is in it."""

    collection: Collection
    has_paper: bool


@dataclass(frozen=True)
class SavePanel:
    """The viewer's collections, for the "Save to collection" control on a paper page."""

    options: list[SaveOption]

    @property
    def saved_in(self) -> int:
        """How many of the viewer's collections hold the paper."""
        return sum(option.has_paper for option in self.options)


def _with_paper_counts(collections: QuerySet[Collection]) -> QuerySet[Collection]:
    # Hidden papers are left out of every list, so they are left out of the count too.
    return collections.annotate(paper_count=Count("items", filter=visible_condition("items__paper")))


def _check_curator(user: AbstractBaseUser | AnonymousUser) -> None:
    problem = curating_problem(user)
    if problem:
        raise CollectionRefused(problem, status=403)


def _clean(name: str, description: str) -> tuple[str, str]:
    name, description = " ".join(name.split()), description.replace("\r\n", "\n").strip()
    if not name:
        raise CollectionRefused("Give the collection a name.")
    if len(name) > NAME_CHARS:
        raise CollectionRefused(f"A collection name can be at most {NAME_CHARS} characters; this one has {len(name)}.")
    if len(description) > DESCRIPTION_CHARS:
        raise CollectionRefused(
            f"A description can be at most {DESCRIPTION_CHARS:,} characters; this one has {len(description):,}."
        )
    return name, description


def _slug_candidates(name: str):
    stem = slugify(name)[:_SLUG_STEM_CHARS].strip("-") or "collection"
    yield stem
    n = 2
    while True:
        yield f"{stem}-{n}"
        n += 1


def create_collection(
    owner: AbstractBaseUser, name: str, description: str = "", public: bool = False, first_paper: str | None = None
) -> Collection:
    """A new collection, its slug made from its name (unique per owner: -2, -3…), holding first_paper if given."""
    _check_curator(owner)
    name, description = _clean(name, description)
    paper = _listed_paper(first_paper) if first_paper else None
    taken = set(Collection.objects.filter(owner=owner).values_list("slug", flat=True))
    for slug in _slug_candidates(name):
        if slug in taken:
            continue
        try:
            with transaction.atomic():
                collection = Collection.objects.create(
                    owner=owner, name=name, slug=slug, description=description, public=public
                )
                if paper is not None:
                    CollectionItem.objects.create(collection=collection, paper=paper)
                return collection
        except IntegrityError:
            taken.add(slug)  # made at the same moment by another request: take the next one
    raise AssertionError("unreachable: slug candidates never run out")


def _listed_paper(address: str) -> Paper:
    """The visible paper an address names (core.sources.registry: `2503.11731`, `biorxiv:10.1101/…`)."""
    parsed = parse_address(address)
    paper = Paper.objects.visible().named(parsed).first() if parsed is not None else None
    if paper is None:
        raise CollectionRefused(f"{parsed.label if parsed else address[:64]} is not on this site.", status=404)
    return paper


def update_collection(
    user: AbstractBaseUser, collection: Collection, name: str, description: str, public: bool
) -> Collection:
    """Rename, describe, open or close a collection; its address (slug) stays, so shared links keep working."""
    check_owner(user, collection)
    collection.name, collection.description = _clean(name, description)
    collection.public = public
    collection.save(update_fields=["name", "description", "public"])
    return collection


def delete_collection(user: AbstractBaseUser, collection: Collection) -> None:
    """Delete the collection (the papers stay on the site)."""
    check_owner(user, collection)
    collection.delete()


def check_owner(user: AbstractBaseUser | AnonymousUser, collection: Collection) -> None:
    """Raise CollectionRefused unless the user owns the collection and may still curate."""
    if not user.is_authenticated or collection.owner_id != user.pk:
        raise CollectionRefused("Only the owner of a collection can change it.", status=403)
    _check_curator(user)


def set_paper(user: AbstractBaseUser, collection: Collection, address: str, add: bool) -> Paper:
    """Add the paper to the collection or take it out; doing it twice changes nothing the second time."""
    check_owner(user, collection)
    paper = _listed_paper(address)
    if add:
        CollectionItem.objects.get_or_create(collection=collection, paper=paper)
    else:
        CollectionItem.objects.filter(collection=collection, paper=paper).delete()
    return paper


def visible_collection(collection_id: int, viewer: AbstractBaseUser | AnonymousUser) -> Collection | None:
    """The collection by id if the viewer may see it: public ones to everyone, private ones to their owner."""
    return visible_collections(Collection.objects.filter(pk=collection_id), viewer).select_related("owner").first()


def collection_page(username: str, slug: str, viewer: AbstractBaseUser | AnonymousUser) -> Collection | None:
    """The collection at /users/<username>/collections/<slug>, or None when it does not exist for this viewer."""
    found = Collection.objects.filter(owner__username=username, slug=slug)
    return _with_paper_counts(visible_collections(found, viewer)).select_related("owner").first()


def visible_collections(
    collections: QuerySet[Collection], viewer: AbstractBaseUser | AnonymousUser
) -> QuerySet[Collection]:
    """Those of `collections` the viewer may see: the one rule of who sees a collection."""
    if viewer.is_authenticated:
        return collections.filter(Q(public=True) | Q(owner=viewer))
    return collections.filter(public=True)


def paper_ids(collection: Collection) -> list[int]:
    """The collection's papers, most recently added first, hidden papers left out."""
    items = collection.items.filter(visible_condition("paper")).order_by("-added_at", "-id")
    return list(items.values_list("paper_id", flat=True))


def collections_of(owner: AbstractBaseUser) -> list[Collection]:
    """All of the owner's collections, newest first, each with `paper_count`."""
    return list(_with_paper_counts(owner.collections.all()).select_related("owner").order_by("-created_at", "-id"))


def collections_for_profile(owner: AbstractBaseUser, viewer: AbstractBaseUser | AnonymousUser) -> list[Collection]:
    """The collections a profile page shows: public ones, and private ones too when the owner looks."""
    collections = _with_paper_counts(owner.collections.all()).select_related("owner")
    if not (viewer.is_authenticated and viewer.pk == owner.pk):
        collections = collections.filter(public=True)
    return list(collections.order_by("-created_at", "-id"))


def public_collections_holding(paper: Paper, most: int = 20) -> tuple[list[Collection], int]:
    """The public collections the paper is in ("In these collections" on its page), the most recently made
    first, at most `most` of them, and how many there are in all."""
    # By a subquery, not a join through items: the paper counts must count every item of each collection.
    holding = Collection.objects.filter(
        public=True, pk__in=CollectionItem.objects.filter(paper=paper).values("collection")
    )
    shown = list(_with_paper_counts(holding).select_related("owner").order_by("-created_at", "-id")[:most])
    return shown, len(shown) if len(shown) < most else holding.count()


def curating_problem(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """Why the user may not make or change collections (signed out, banned), in words for them; None when they may."""
    return posting_problem(user, needs_verified_email=False)


def save_panel(user: AbstractBaseUser | AnonymousUser, paper: Paper) -> SavePanel | None:
    """The "Save to collection" control on a paper page, in one query; None when the user may not curate."""
    if curating_problem(user):
        return None
    holds = CollectionItem.objects.filter(collection=OuterRef("pk"), paper=paper)
    collections = Collection.objects.filter(owner=user).annotate(has_paper=Exists(holds)).order_by("name", "id")
    return SavePanel([SaveOption(c, c.has_paper) for c in collections])
