"""What someone follows — categories, saved searches, authors, organizations, and words a paper must or must not
hold — read from what they typed, and kept on their Interests (community.models): a member's own, which For you
reads (and their digest, if they take one), or an anonymous email subscriber's, which only their digest reads.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q

from paperfeed.community.models import Collection, Interests
from paperfeed.community.services.collections import visible_collections
from paperfeed.core.search_query import parse_query
from paperfeed.papers.models import Author, Organization

# --- what interests may hold ---

MAX_CATEGORIES = 30
MAX_SAVED_SEARCHES = 10
MAX_SEARCH_CHARS = 200
MAX_AUTHORS = 100
MAX_ORGANIZATIONS = 50
MAX_KEYWORDS = 30
MAX_KEYWORD_CHARS = 100
MAX_DIGEST_COLLECTIONS = 10
SEARCH_MODES = ("hybrid", "keyword", "semantic")

# arXiv's archives; a category is an archive, or an archive and a subject class (cs.CL, math.AP, astro-ph.GA).
ARXIV_ARCHIVES = frozenset(
    "astro-ph cond-mat cs econ eess gr-qc hep-ex hep-lat hep-ph hep-th math math-ph nlin nucl-ex nucl-th physics "
    "q-bio q-fin quant-ph stat".split()
)
# In these archives subject classes are written in lower case (physics.optics, cond-mat.mes-hall); elsewhere in
# capitals (cs.CL, math.AP, q-bio.NC).
_LOWER_CASE_CLASSES = frozenset({"physics", "cond-mat"})
_CATEGORY = re.compile(r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]+(?:-[a-z]+)*))?", re.ASCII | re.I)
# Any character below space, and DEL: in an address they could start a new mail header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PreferenceError(ValueError):
    """A preference that cannot be used, with what to tell the person who typed it."""


@dataclass
class InterestChoices:
    """What someone chose to follow, checked and ready to save (see `save_choices`)."""

    categories: list[str] = field(default_factory=list)
    saved_searches: list[dict[str, str]] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    include_keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)


CHOSEN = ("categories", "saved_searches", "include_keywords", "exclude_keywords")  # the fields stored as they are


# --- reading what was typed ---


def _items(typed: str, separators: str = r"[\n,;]") -> list[str]:
    """The non-empty, trimmed pieces of a list typed one per line (or separated by commas)."""
    return [piece.strip() for piece in re.split(separators, typed.replace("\r", "\n")) if piece.strip()]


def _deduplicated(items: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            kept.append(item)
    return kept


def _quoted(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"“{item[:60]}”" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _too_many(items: list, limit: int, what: str) -> None:
    if len(items) > limit:
        raise PreferenceError(f"At most {limit} {what}; you gave {len(items)}.")


def _no_control(items: list[str], what: str) -> None:
    if any(_CONTROL.search(item) for item in items):
        raise PreferenceError(f"{what} cannot contain control characters.")


def normalize_category(typed: str) -> str | None:
    """An arXiv category in arXiv's own spelling (cs.cl → cs.CL, physics.Optics → physics.optics), or None."""
    match = _CATEGORY.fullmatch(typed)
    if match is None or match["archive"].lower() not in ARXIV_ARCHIVES:
        return None
    archive, subject = match["archive"].lower(), match["subject"]
    if subject is None:
        return archive
    return f"{archive}.{subject.lower() if archive in _LOWER_CASE_CLASSES else subject.upper()}"


def parse_categories(typed: str) -> list[str]:
    """arXiv categories typed separated by spaces or commas, e.g. "cs.CL cs.LG, hep-th"."""
    items = _items(typed, r"[\s,;]+")
    categories, unknown = [], []
    for item in items:
        category = normalize_category(item)
        if category is None:
            unknown.append(_CONTROL.sub(" ", item))
        else:
            categories.append(category)
    if unknown:
        raise PreferenceError(
            f"Not an arXiv category: {_quoted(unknown)}. Write categories as arXiv does, e.g. cs.CL, math.AP or "
            "hep-th, separated by spaces or commas."
        )
    categories = _deduplicated(categories)
    _too_many(categories, MAX_CATEGORIES, "categories")
    return categories


def parse_saved_searches(typed: str) -> list[dict[str, str]]:
    """Searches typed one per line, each optionally starting with "keyword:", "semantic:" or "hybrid:"."""
    searches: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    lines = _items(typed, r"\n")
    _no_control(lines, "A saved search")
    for number, line in enumerate(lines, start=1):
        mode, query = "hybrid", line
        prefix, colon, rest = line.partition(":")
        if colon and prefix.strip().lower() in SEARCH_MODES:
            mode, query = prefix.strip().lower(), rest.strip()
        if not query:
            raise PreferenceError(f"Line {number} has no words to search for after “{prefix.strip()}:”.")
        if len(query) > MAX_SEARCH_CHARS:
            raise PreferenceError(
                f"Line {number} is too long: a saved search has at most {MAX_SEARCH_CHARS} characters."
            )
        if not parse_query(query).positive:
            raise PreferenceError(f"Line {number} (“{query[:60]}”) has no words to search for.")
        if (mode, query.lower()) not in seen:
            seen.add((mode, query.lower()))
            searches.append({"q": query, "mode": mode})
    _too_many(searches, MAX_SAVED_SEARCHES, "saved searches")
    return searches


def parse_keywords(typed: str) -> list[str]:
    """Words or phrases typed one per line or separated by commas."""
    keywords = _deduplicated(_items(typed))
    _no_control(keywords, "A keyword")
    if long := [k for k in keywords if len(k) > MAX_KEYWORD_CHARS]:
        raise PreferenceError(f"A keyword has at most {MAX_KEYWORD_CHARS} characters: {_quoted(long, 1)} is longer.")
    _too_many(keywords, MAX_KEYWORDS, "keywords")
    return keywords


def parse_authors(typed: str) -> list[Author]:
    """Authors named one per line, exactly as paper pages write them (any case); unknown names are reported."""
    names = _deduplicated(_items(typed, r"\n"))
    _no_control(names, "An author's name")
    _too_many(names, MAX_AUTHORS, "authors")
    query = Q()
    for name in names:
        query |= Q(name__iexact=name)
    found = {a.name.lower(): a for a in Author.objects.filter(query)} if names else {}
    if unknown := [name for name in names if name.lower() not in found]:
        suggestions = [s for s in (_author_like(name) for name in unknown[:5]) if s]
        maybe = f" Did you mean {_quoted(suggestions)}?" if suggestions else ""
        raise PreferenceError(
            f"No paper on this site has an author named {_quoted(unknown)}.{maybe} Write one name per line, as the "
            "paper pages spell it (e.g. Ada Lovelace)."
        )
    return [found[name.lower()] for name in names]


def _author_like(name: str) -> str | None:
    """The author name on this site closest to a mistyped one, among those sharing its last or first word."""
    words = name.split()
    if not words:
        return None
    candidates = Author.objects.filter(Q(name__iendswith=f" {words[-1]}") | Q(name__istartswith=f"{words[0]} "))
    names = list(candidates.values_list("name", flat=True)[:500])
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.7)
    return by_lower[close[0]] if close else None


def parse_organizations(typed: str) -> list[Organization]:
    """Organizations named one per line by name or by the slug in their address (/organizations/<slug>)."""
    names = _deduplicated(_items(typed, r"\n"))
    _no_control(names, "An organization's name")
    _too_many(names, MAX_ORGANIZATIONS, "organizations")
    chosen: list[Organization] = []
    unknown, ambiguous = [], []
    for name in names:
        matches = list(Organization.objects.filter(slug__iexact=name)[:1]) or list(
            Organization.objects.filter(name__iexact=name)[:2]
        )
        if not matches:
            unknown.append(name)
        elif len(matches) > 1:
            ambiguous.append(name)
        elif matches[0] not in chosen:
            chosen.append(matches[0])
    if unknown:
        raise PreferenceError(
            f"No organization on this site is called {_quoted(unknown)}. Write one per line, by its name or by the "
            "last part of its page's address."
        )
    if ambiguous:
        raise PreferenceError(
            f"Several organizations are called {_quoted(ambiguous)}: write the last part of the page's address "
            "(/organizations/…) instead."
        )
    return chosen


def choices_of(interests: Interests | None) -> InterestChoices:
    """Interests as stored (none: nothing followed)."""
    if interests is None:
        return InterestChoices()
    saved = interests.pk is not None
    return InterestChoices(
        categories=list(interests.categories),
        saved_searches=list(interests.saved_searches),
        authors=list(interests.authors.order_by("name")) if saved else [],
        organizations=list(interests.organizations.order_by("name")) if saved else [],
        include_keywords=list(interests.include_keywords),
        exclude_keywords=list(interests.exclude_keywords),
    )


def choices_as_text(choices: InterestChoices) -> dict[str, str]:
    """Choices written the way forms take them, so that saving them unchanged changes nothing."""
    same_name = _organizations_sharing_a_name({o.name.lower() for o in choices.organizations})
    return {
        "categories": " ".join(choices.categories),
        "saved_searches": "\n".join(
            s["q"] if s.get("mode", "hybrid") == "hybrid" else f"{s['mode']}: {s['q']}" for s in choices.saved_searches
        ),
        "authors": "\n".join(a.name for a in choices.authors),
        "organizations": "\n".join(o.slug if o.name.lower() in same_name else o.name for o in choices.organizations),
        "include_keywords": "\n".join(choices.include_keywords),
        "exclude_keywords": "\n".join(choices.exclude_keywords),
    }


def _organizations_sharing_a_name(names: set[str]) -> set[str]:
    """Which of these names (lower-cased) more than one organization has: those are written by slug."""
    counts: dict[str, int] = {}
    query = Q()
    for name in names:
        query |= Q(name__iexact=name)
    for name in Organization.objects.filter(query).values_list("name", flat=True) if names else []:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return {name for name, n in counts.items() if n > 1}


def saved_searches(interests: Interests | None) -> list[tuple[str, str]]:
    """The saved searches as (query, mode), tolerant of hand-edited JSON (a bare string is a keyword search)."""
    found = []
    for entry in interests.saved_searches if interests is not None else ():
        if isinstance(entry, str):
            q, mode = entry, "keyword"
        elif isinstance(entry, dict):
            q, mode = str(entry.get("q") or ""), str(entry.get("mode") or "keyword")
        else:
            continue
        q = " ".join(q.split())
        if q:
            found.append((q, mode if mode in SEARCH_MODES else "keyword"))
    return found


# --- keeping them ---


def interests_of(user: AbstractBaseUser | None) -> Interests | None:
    """A member's interests, or None (anonymous, or nothing followed yet)."""
    if user is None or not user.is_authenticated:
        return None
    return Interests.objects.filter(user=user).first()


def own_interests(user: AbstractBaseUser) -> Interests:
    """A member's interests, made (empty) when they have none yet."""
    try:
        with transaction.atomic():
            return Interests.objects.get_or_create(user=user)[0]
    except IntegrityError:  # made by a request racing this one
        return Interests.objects.get(user=user)


# --- collections whose like-papers a member's digest brings ---


def digest_collections(interests: Interests | None, member: AbstractBaseUser | None) -> list[Collection]:
    """The collections these interests chose for the digest that their member may still see (a collection made
    private by its owner since drops out), by name."""
    if interests is None or interests.pk is None or member is None:
        return []
    chosen = visible_collections(member, interests.digest_collections.all())
    return list(chosen.select_related("owner").order_by("name", "id"))


def choose_for_digest(member: AbstractBaseUser, collection: Collection, chosen: bool) -> None:
    """Put the collection in the member's digest ("Like your collections") or take it out. The caller checked that
    the member may see it; at most MAX_DIGEST_COLLECTIONS, refused with PreferenceError beyond."""
    with transaction.atomic():
        interests = own_interests(member)
        if not chosen:
            interests.digest_collections.remove(collection)
            return
        held = interests.digest_collections.exclude(pk=collection.pk).count()
        if held >= MAX_DIGEST_COLLECTIONS:
            raise PreferenceError(
                f"Your digest already brings papers like {MAX_DIGEST_COLLECTIONS} collections, the most it can; "
                "take one out first (on its page)."
            )
        interests.digest_collections.add(collection)


def save_choices(interests: Interests, choices: InterestChoices) -> Interests:
    """Store the choices (all of them or, if anything fails, none): the caller's transaction, or one of its own."""
    with transaction.atomic():
        for name in CHOSEN:
            setattr(interests, name, getattr(choices, name))
        interests.save()
        interests.authors.set(choices.authors)
        interests.organizations.set(choices.organizations)
    return interests


def merged(first: InterestChoices, second: InterestChoices) -> InterestChoices:
    """Both choices in one (a member who takes over the anonymous digest of their address keeps what each
    followed), the first's first, within the limits."""

    def union(a: list, b: list, limit: int) -> list:
        return [*a, *(x for x in b if x not in a)][:limit]

    return InterestChoices(
        categories=union(first.categories, second.categories, MAX_CATEGORIES),
        saved_searches=union(first.saved_searches, second.saved_searches, MAX_SAVED_SEARCHES),
        authors=union(first.authors, second.authors, MAX_AUTHORS),
        organizations=union(first.organizations, second.organizations, MAX_ORGANIZATIONS),
        include_keywords=union(first.include_keywords, second.include_keywords, MAX_KEYWORDS),
        exclude_keywords=union(first.exclude_keywords, second.exclude_keywords, MAX_KEYWORDS),
    )


# --- following an author or organization from its page ---


def follow_target(kind: str, pk: object) -> Author | Organization | None:
    """The author or organization a "follow" button names (`kind` "author" or "organization"), or None."""
    model = {"author": Author, "organization": Organization}.get(kind)
    try:
        return model.objects.filter(pk=int(str(pk))).first() if model is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def _followed(interests: Interests, target: Author | Organization):
    return interests.authors if isinstance(target, Author) else interests.organizations


def is_following(interests: Interests | None, target: Author | Organization) -> bool:
    return interests is not None and _followed(interests, target).filter(pk=target.pk).exists()


def follow(interests: Interests, target: Author | Organization) -> None:
    """Follow the author or organization; PreferenceError when the interests already follow the most."""
    followed = _followed(interests, target)
    limit, what = (MAX_AUTHORS, "authors") if isinstance(target, Author) else (MAX_ORGANIZATIONS, "organizations")
    with transaction.atomic():
        if followed.filter(pk=target.pk).exists():
            return
        if followed.count() >= limit:
            raise PreferenceError(
                f"You already follow {limit} {what}, the most you can; remove one in your digest settings first."
            )
        followed.add(target)


def unfollow(interests: Interests, target: Author | Organization) -> None:
    _followed(interests, target).remove(target)


def follow_kind(target: Author | Organization) -> str:
    """ "author" or "organization": what follow_target takes back."""
    return "author" if isinstance(target, Author) else "organization"


def new_papers_of(target: Author | Organization) -> str:
    """How pages say whose new papers these are: "by Ada Lovelace", "from DeepMind"."""
    return f"by {target.name}" if isinstance(target, Author) else f"from {target.name}"


def with_follow_added(initial: dict[str, object], target: Author | Organization | None) -> dict[str, object]:
    """Form text (choices_as_text) with this author or organization added as a line, if not there already."""
    if target is None:
        return initial
    field, line = ("authors", target.name) if isinstance(target, Author) else ("organizations", target.slug)
    lines = [item.strip() for item in str(initial.get(field) or "").splitlines() if item.strip()]
    if {line.lower(), target.name.lower()} & {item.lower() for item in lines}:
        return initial
    return {**initial, field: "\n".join([*lines, line])}
