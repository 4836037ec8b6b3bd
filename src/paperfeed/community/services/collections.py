"""Collections: named lists of papers a user curates, kept to themselves or shown to everyone, or a reading group's
shared collections, which its editors and owners curate and only its members see (whatever `public` says).

Who may see a collection is decided in one place, `visible_collections` (pages, feeds, downloads, the API and
"More like this collection" all go through it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.text import slugify

from paperfeed.community.models import Collection, CollectionItem, Group
from paperfeed.community.services import groups
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
    """A collection the viewer may add to (theirs, or one of their groups'), and whether the paper on screen is in
    it."""

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
    owner: AbstractBaseUser,
    name: str,
    description: str = "",
    public: bool = False,
    first_paper: str | None = None,
    group: Group | None = None,
) -> Collection:
    """A new collection, its slug made from its name (unique per owner: -2, -3…), holding first_paper if given.
    With `group`, a shared collection of that group (its editors and owners make them), never public."""
    _check_curator(owner)
    if group is not None:
        _check_group_curator(owner, group.pk)
        public = False
    name, description = _clean(name, description)
    paper = _listed_paper(first_paper) if first_paper else None
    taken = set(Collection.objects.filter(owner=owner).values_list("slug", flat=True))
    for slug in _slug_candidates(name):
        if slug in taken:
            continue
        try:
            with transaction.atomic():
                collection = Collection.objects.create(
                    owner=owner, name=name, slug=slug, description=description, public=public, group=group
                )
                if paper is not None:
                    CollectionItem.objects.create(collection=collection, paper=paper, added_by=owner)
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
    collection.public = public and collection.group_id is None  # a group's collections stay the group's
    collection.save(update_fields=["name", "description", "public"])
    return collection


def delete_collection(user: AbstractBaseUser, collection: Collection) -> None:
    """Delete the collection (the papers stay on the site)."""
    check_owner(user, collection)
    collection.delete()


def _check_group_curator(user: AbstractBaseUser | AnonymousUser, group_id: int) -> None:
    if not groups.is_member(user, group_id):
        raise CollectionRefused("There is no such collection, or it is private.", status=404)
    if not groups.may_curate(user, group_id):
        raise CollectionRefused("Only the group's editors and owners can change its collections.", status=403)


def check_owner(user: AbstractBaseUser | AnonymousUser, collection: Collection) -> None:
    """Raise CollectionRefused unless the user may rename or delete the collection: its owner, who may still curate;
    for a group's collection, the group's owners, or its maker while an editor of the group."""
    if not user.is_authenticated:
        raise CollectionRefused("Only the owner of a collection can change it.", status=403)
    if collection.group_id is not None:
        found = groups.membership(user, collection.group_id)
        if found is None:
            raise CollectionRefused("There is no such collection, or it is private.", status=404)
        allowed = found.role == groups.Role.OWNER or (
            found.role == groups.Role.EDITOR and collection.owner_id == user.pk
        )
        if not allowed:
            raise CollectionRefused(
                "Only the group's owners, or the editor who made it, can rename or delete this collection.", 403
            )
    elif collection.owner_id != user.pk:
        raise CollectionRefused("Only the owner of a collection can change it.", status=403)
    _check_curator(user)


def check_papers_curator(user: AbstractBaseUser | AnonymousUser, collection: Collection) -> None:
    """Raise CollectionRefused unless the user may add papers to the collection and take them out: its owner, or
    for a group's collection, any editor or owner of the group."""
    if collection.group_id is None:
        check_owner(user, collection)
        return
    _check_curator(user)
    _check_group_curator(user, collection.group_id)


def set_paper(user: AbstractBaseUser, collection: Collection, address: str, add: bool) -> Paper:
    """Add the paper to the collection or take it out; doing it twice changes nothing the second time."""
    check_papers_curator(user, collection)
    paper = _listed_paper(address)
    if add:
        CollectionItem.objects.get_or_create(collection=collection, paper=paper, defaults={"added_by": user})
    else:
        CollectionItem.objects.filter(collection=collection, paper=paper).delete()
    return paper


def visible_collection(collection_id: int, viewer: AbstractBaseUser | AnonymousUser) -> Collection | None:
    """The collection by id if the viewer may see it (visible_collections)."""
    found = visible_collections(viewer, Collection.objects.filter(pk=collection_id))
    return found.select_related("owner", "group").first()


def collection_page(username: str, slug: str, viewer: AbstractBaseUser | AnonymousUser) -> Collection | None:
    """The collection at /users/<username>/collections/<slug>, or None when it does not exist for this viewer."""
    found = Collection.objects.filter(owner__username=username, slug=slug)
    return _with_paper_counts(visible_collections(viewer, found)).select_related("owner", "group").first()


def visible_collections(
    viewer: AbstractBaseUser | AnonymousUser, collections: QuerySet[Collection] | None = None
) -> QuerySet[Collection]:
    """The collections (of `collections`, or all) the viewer may see: a personal one when it is public or theirs; a
    group's only when they are a member of the group, whatever its `public` flag says. The one rule of who sees
    a collection."""
    collections = Collection.objects.all() if collections is None else collections
    personal = Q(group__isnull=True, public=True)
    if not viewer.is_authenticated:
        return collections.filter(personal)
    mine = Q(group__isnull=True, owner=viewer)
    in_my_groups = Q(group__in=groups.member_group_ids(viewer))
    return collections.filter(personal | mine | in_my_groups)


def may_see(viewer: AbstractBaseUser | AnonymousUser, collection: Collection) -> bool:
    """Whether the viewer may see this collection (visible_collections, for one collection at hand)."""
    if collection.group_id is not None:
        return groups.is_member(viewer, collection.group_id)
    return collection.public or (viewer.is_authenticated and collection.owner_id == viewer.pk)


def paper_ids(collection: Collection) -> list[int]:
    """The collection's papers, most recently added first, hidden papers left out."""
    items = collection.items.filter(visible_condition("paper")).order_by("-added_at", "-id")
    return list(items.values_list("paper_id", flat=True))


def collections_of(owner: AbstractBaseUser) -> list[Collection]:
    """All of the owner's own collections (not the groups' they made), newest first, each with `paper_count`."""
    own = owner.collections.filter(group__isnull=True)
    return list(_with_paper_counts(own).select_related("owner").order_by("-created_at", "-id"))


def group_collections(group: Group) -> list[Collection]:
    """The group's collections, by name, each with `paper_count` (callers have checked the viewer is a member)."""
    found = Collection.objects.filter(group=group).select_related("owner", "group")
    return list(_with_paper_counts(found).order_by("name", "id"))


def collections_of_my_groups(user: AbstractBaseUser) -> list[Collection]:
    """The collections of the groups the user is in, by group then name, each with `paper_count`."""
    found = Collection.objects.filter(group__in=groups.member_group_ids(user)).select_related("owner", "group")
    return list(_with_paper_counts(found).order_by("group__name", "name", "id"))


def collections_for_profile(owner: AbstractBaseUser, viewer: AbstractBaseUser | AnonymousUser) -> list[Collection]:
    """The collections a profile page shows: public ones, and private ones too when the owner looks (never the
    groups' collections the owner made: those are shown on the group's page, to its members)."""
    collections = _with_paper_counts(owner.collections.filter(group__isnull=True)).select_related("owner")
    if not (viewer.is_authenticated and viewer.pk == owner.pk):
        collections = collections.filter(public=True)
    return list(collections.order_by("-created_at", "-id"))


def public_collections_holding(paper: Paper, most: int = 20) -> tuple[list[Collection], int]:
    """The public collections the paper is in ("In these collections" on its page), the most recently made
    first, at most `most` of them, and how many there are in all."""
    # By a subquery, not a join through items: the paper counts must count every item of each collection.
    holding = Collection.objects.filter(
        public=True, group__isnull=True, pk__in=CollectionItem.objects.filter(paper=paper).values("collection")
    )
    shown = list(_with_paper_counts(holding).select_related("owner").order_by("-created_at", "-id")[:most])
    return shown, len(shown) if len(shown) < most else holding.count()


def curating_problem(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """Why the user may not make or change collections (signed out, banned), in words for them; None when they may."""
    return posting_problem(user, needs_verified_email=False)


def save_panel(user: AbstractBaseUser | AnonymousUser, paper: Paper) -> SavePanel | None:
    """The "Save to collection" control on a paper page, in one query: the user's own collections, then those of
    the groups where they are an editor or owner; None when the user may not curate."""
    if curating_problem(user):
        return None
    holds = CollectionItem.objects.filter(collection=OuterRef("pk"), paper=paper)
    own = Q(owner=user, group__isnull=True)
    shared = Q(group__in=groups.curating_group_ids(user))
    collections = (
        Collection.objects.filter(own | shared)
        .select_related("owner", "group")
        .annotate(has_paper=Exists(holds))
        .order_by(F("group__name").asc(nulls_first=True), "name", "id")
    )
    return SavePanel([SaveOption(c, c.has_paper) for c in collections])
