"""Subscribing to the email digest, confirming the address, choosing what it brings, and unsubscribing.

Anyone may ask for the digest with just an email address (double opt-in: nothing is sent but the confirmation until
the address is confirmed). Whatever a stranger asks of an address gets the same answer whether or not it is already
subscribed, and the same rate limits apply either way: the pages must not tell who reads the digest.
Signed links (services/links.py) stand in for an account: whoever holds one received a mail at that address.
"""

from __future__ import annotations

import difflib
import enum
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from paperfeed.background.mail import queue_email
from paperfeed.community.models import Profile
from paperfeed.community.services import throttle
from paperfeed.core.search_query import parse_query
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import links
from paperfeed.papers.models import Author, Organization

# --- rate limits (numbers a site operator may want to know) ---

# Emails a stranger can cause by typing an address: 3 per address and 20 per client IP per hour (a lab behind one
# address still has room). Over the limit nothing is sent and the answer is the same, so the limit tells nothing.
EMAILS_PER_ADDRESS = throttle.Limit("digest-email-address", 3, timedelta(hours=1))
EMAILS_PER_IP = throttle.Limit("digest-email-ip", 20, timedelta(hours=1))

# --- what a preference may hold ---

MAX_TOP_TRENDING = 50
MAX_PAPERS = 100
MAX_CATEGORIES = 30
MAX_SAVED_SEARCHES = 10
MAX_SEARCH_CHARS = 200
MAX_AUTHORS = 100
MAX_ORGANIZATIONS = 50
MAX_KEYWORDS = 30
MAX_KEYWORD_CHARS = 100
SEARCH_MODES = ("hybrid", "keyword", "semantic")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

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
class Preferences:
    """What a subscriber chose, checked and ready to save (see `save_preferences`)."""

    frequency: str = Subscription.Frequency.DAILY
    weekday: int = 0
    time_zone: str = "UTC"
    hour: int = 7
    top_trending: int = 10
    categories: list[str] = field(default_factory=list)
    saved_searches: list[dict[str, str]] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    include_keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    max_papers: int = 20


# --- reading what was typed ---


def clean_address(typed: str) -> str:
    """The address as stored (trimmed, lower-cased); raises PreferenceError for anything that is not one address."""
    if _CONTROL.search(typed):
        raise PreferenceError("An email address cannot contain line breaks or other control characters.")
    address = typed.strip().lower()
    if not address:
        raise PreferenceError("Enter your email address.")
    if len(address) > 254:
        raise PreferenceError("That email address is too long: an address has at most 254 characters.")
    try:
        validate_email(address)
    except ValidationError:
        raise PreferenceError(
            f"“{address[:80]}” is not an email address. Check it: it should look like ada@example.org."
        ) from None
    return address


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted (for the form's suggestions)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def parse_time_zone(typed: str) -> str:
    """An IANA time zone name, in its usual spelling whatever the case typed."""
    typed = typed.strip()
    names = {name.lower(): name for name in time_zone_names()}
    found = None if _CONTROL.search(typed) else names.get(typed.lower())
    if found is None:
        shown = _CONTROL.sub(" ", typed)[:64]
        raise PreferenceError(f"“{shown}” is not a time zone we know. Choose one such as Europe/Paris or UTC.")
    return found


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


def preferences_of(subscription: Subscription) -> Preferences:
    """A subscription's preferences as stored."""
    saved = subscription.pk is not None
    return Preferences(
        frequency=subscription.frequency,
        weekday=subscription.weekday,
        time_zone=subscription.time_zone,
        hour=subscription.hour,
        top_trending=subscription.top_trending,
        categories=list(subscription.categories),
        saved_searches=list(subscription.saved_searches),
        authors=list(subscription.authors.order_by("name")) if saved else [],
        organizations=list(subscription.organizations.order_by("name")) if saved else [],
        include_keywords=list(subscription.include_keywords),
        exclude_keywords=list(subscription.exclude_keywords),
        max_papers=subscription.max_papers,
    )


def preferences_as_text(preferences: Preferences) -> dict[str, object]:
    """Preferences written the way the form takes them, so that saving them unchanged changes nothing."""
    same_name = _organizations_sharing_a_name({o.name.lower() for o in preferences.organizations})
    return {
        "frequency": preferences.frequency,
        "weekday": preferences.weekday,
        "time_zone": preferences.time_zone,
        "hour": preferences.hour,
        "top_trending": preferences.top_trending,
        "categories": " ".join(preferences.categories),
        "saved_searches": "\n".join(
            s["q"] if s.get("mode", "hybrid") == "hybrid" else f"{s['mode']}: {s['q']}"
            for s in preferences.saved_searches
        ),
        "authors": "\n".join(a.name for a in preferences.authors),
        "organizations": "\n".join(
            o.slug if o.name.lower() in same_name else o.name for o in preferences.organizations
        ),
        "include_keywords": "\n".join(preferences.include_keywords),
        "exclude_keywords": "\n".join(preferences.exclude_keywords),
        "max_papers": preferences.max_papers,
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


def describe_schedule(subscription: Subscription) -> str:
    """When the digest comes, in words: "every day after 07:00 (Europe/Paris)"."""
    when = (
        "every day"
        if subscription.frequency == Subscription.Frequency.DAILY
        else f"every {WEEKDAYS[subscription.weekday]}"
    )
    return f"{when} after {subscription.hour:02d}:00 ({subscription.time_zone})"


# --- changing a subscription ---


def _apply(subscription: Subscription, preferences: Preferences) -> None:
    """Copy the preferences onto the subscription and save it, with its followed authors and organizations."""
    for name in (
        "frequency",
        "weekday",
        "time_zone",
        "hour",
        "top_trending",
        "categories",
        "saved_searches",
        "include_keywords",
        "exclude_keywords",
        "max_papers",
    ):
        setattr(subscription, name, getattr(preferences, name))
    subscription.save()
    subscription.authors.set(preferences.authors)
    subscription.organizations.set(preferences.organizations)


def save_preferences(subscription: Subscription, preferences: Preferences) -> Subscription:
    """Save what the subscriber chose; all of it or, if anything fails, none of it."""
    with transaction.atomic():
        _apply(subscription, preferences)
    return subscription


def confirm(subscription: Subscription) -> bool:
    """Start the digest for a confirmed address; False if it was already running (confirming twice is harmless)."""
    now = timezone.now()
    changed = (
        Subscription.objects.filter(pk=subscription.pk)
        .exclude(status=Subscription.Status.ACTIVE)
        .update(status=Subscription.Status.ACTIVE, confirmed_at=now, unsubscribed_at=None, bounce_reason="")
    )
    subscription.refresh_from_db()
    return bool(changed)


def unsubscribe(subscription: Subscription) -> bool:
    """Stop the digest; False if it was already stopped (unsubscribing twice is harmless). One quick UPDATE."""
    changed = (
        Subscription.objects.filter(pk=subscription.pk)
        .exclude(status=Subscription.Status.UNSUBSCRIBED)
        .update(status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    )
    subscription.status = Subscription.Status.UNSUBSCRIBED
    return bool(changed)


# --- subscribing ---


class Outcome(enum.Enum):
    """What `subscribe` did, as far as the person asking may know."""

    CHECK_INBOX = "check-inbox"  # a stranger (or an unconfirmed address): the same answer for every address
    SUBSCRIBED = "subscribed"  # a signed-in user's own confirmed address: the digest starts now
    ALREADY_SUBSCRIBED = "already-subscribed"  # ... which was subscribed already


def email_verified(user: AbstractBaseUser) -> bool:
    """Whether the signed-in user confirmed their account's email address (without creating a profile)."""
    return bool(Profile.objects.filter(user=user, email_verified=True).exists()) and bool(user.email)


def owns_address(user: AbstractBaseUser | None, address: str) -> bool:
    """Whether `user` is signed in and has confirmed `address` as their account's email address."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.email
        and user.email.strip().lower() == address
        and email_verified(user)
    )


def _within_limits(address: str, ip: str) -> bool:
    """Count one email asked for (to `address`, from `ip`) and say whether it may be sent."""
    ok = EMAILS_PER_ADDRESS.allowed(address) and EMAILS_PER_IP.allowed(ip)
    if ok:
        EMAILS_PER_ADDRESS.hit(address)
        EMAILS_PER_IP.hit(ip)
    return ok


def _subscription_for_address(address: str) -> tuple[Subscription, bool]:
    """The subscription of this address, made (pending, default preferences) if there is none yet; (it, created)."""
    try:
        with transaction.atomic():
            return Subscription.objects.get_or_create(email=address)
    except IntegrityError:  # made by a request racing this one
        return Subscription.objects.get(email=address), False


def subscribe(
    typed_address: str, ip: str, user: AbstractBaseUser | None = None, preferences: Preferences | None = None
) -> Outcome:
    """Ask for the digest at an address (raises PreferenceError if it is not one).

    A signed-in user's own confirmed address starts at once. Any other address gets an email, within the rate
    limits: a confirmation link, or, if the address already gets the digest, its preferences link (its preferences
    are not changed by a stranger). The caller tells every stranger the same thing (Outcome.CHECK_INBOX).
    """
    address = clean_address(typed_address)
    if owns_address(user, address):
        return _subscribe_own_address(user, address, preferences)
    if not _within_limits(address, ip):
        return Outcome.CHECK_INBOX
    subscription, created = _subscription_for_address(address)
    if subscription.status == Subscription.Status.ACTIVE:
        send_already_subscribed(subscription)
        return Outcome.CHECK_INBOX
    with transaction.atomic():
        subscription.status = Subscription.Status.PENDING
        if preferences is not None:
            _apply(subscription, preferences)
        else:
            subscription.save(update_fields=["status"])
    send_confirmation(subscription)
    return Outcome.CHECK_INBOX


def _subscribe_own_address(user: AbstractBaseUser, address: str, preferences: Preferences | None) -> Outcome:
    subscription = account_subscription(user)
    if subscription.pk is not None and subscription.status == Subscription.Status.ACTIVE:
        return Outcome.ALREADY_SUBSCRIBED
    start_for_account(subscription, preferences)
    return Outcome.SUBSCRIBED


# --- signed-in users ---


def account_subscription(user: AbstractBaseUser) -> Subscription:
    """The digest subscription of a user whose account email is confirmed: theirs, or the one of their address, or a
    new one with the default preferences. Either of the last two is linked to the user when next saved (their
    confirmed account address proves it is theirs); nothing is written here."""
    existing = Subscription.objects.filter(user=user).first()
    if existing is not None:
        return existing
    address = user.email.strip().lower()
    existing = Subscription.objects.filter(email=address).first() or Subscription(email=address)
    existing.user = user
    return existing


def start_for_account(subscription: Subscription, preferences: Preferences | None = None) -> Subscription:
    """Start (or restart) a signed-in user's digest, at their confirmed address: no confirmation email needed."""
    with transaction.atomic():
        subscription.status = Subscription.Status.ACTIVE
        subscription.confirmed_at = subscription.confirmed_at or timezone.now()
        subscription.unsubscribed_at = None
        subscription.bounce_reason = ""
        _apply(subscription, preferences if preferences is not None else preferences_of(subscription))
    return subscription


# --- emails ---


def _send(template: str, subscription: Subscription, context: dict, lasts: timedelta | None = None) -> None:
    """Render `digests/email/<template>` for the subscriber now; a worker sends it (retrying while the mail server
    is down, and not after `lasts`, when its link would be dead)."""
    context = {"subscription": subscription, "site_url": settings.PAPERFEED_SITE_URL, **context}
    subject = " ".join(render_to_string(f"digests/email/{template}_subject.txt", context).split())
    body = render_to_string(f"digests/email/{template}.txt", context)
    expires = timezone.now() + lasts if lasts else None
    queue_email(template, subscription.email, subject, body, {"Auto-Submitted": "auto-generated"}, expires)


def confirm_days() -> int:
    """How long a confirmation link lasts, in whole days (for pages and emails)."""
    return max(1, links.CONFIRM_MAX_AGE.days)


def send_confirmation(subscription: Subscription) -> None:
    """Email the double opt-in link."""
    context = {"link": links.confirm_url(subscription), "days": confirm_days()}
    _send("confirm", subscription, context, links.CONFIRM_MAX_AGE)


def send_already_subscribed(subscription: Subscription) -> None:
    """Tell an active subscriber who asked again where their preferences are."""
    context = {
        "manage_link": links.manage_url(subscription),
        "unsubscribe_link": links.unsubscribe_url(subscription),
        "schedule": describe_schedule(subscription),
    }
    _send("already_subscribed", subscription, context)


# --- following an author or organization from its page ---


def follow_target(kind: str, pk: object) -> Author | Organization | None:
    """The author or organization a "follow" button names (`kind` "author" or "organization"), or None."""
    model = {"author": Author, "organization": Organization}.get(kind)
    try:
        return model.objects.filter(pk=int(str(pk))).first() if model is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def active_subscription(user: AbstractBaseUser) -> Subscription | None:
    """The signed-in user's digest when it is active, else None."""
    if not user.is_authenticated:
        return None
    return Subscription.objects.filter(user=user, status=Subscription.Status.ACTIVE).first()


def is_following(subscription: Subscription, target: Author | Organization) -> bool:
    followed = subscription.authors if isinstance(target, Author) else subscription.organizations
    return followed.filter(pk=target.pk).exists()


def follow(subscription: Subscription, target: Author | Organization) -> None:
    """Add the author or organization to the digest's follows; PreferenceError when it already follows the most."""
    followed = subscription.authors if isinstance(target, Author) else subscription.organizations
    limit, what = (MAX_AUTHORS, "authors") if isinstance(target, Author) else (MAX_ORGANIZATIONS, "organizations")
    with transaction.atomic():
        if followed.filter(pk=target.pk).exists():
            return
        if followed.count() >= limit:
            raise PreferenceError(
                f"Your digest already follows {limit} {what}, the most it can; remove one in its settings first."
            )
        followed.add(target)


def unfollow(subscription: Subscription, target: Author | Organization) -> None:
    followed = subscription.authors if isinstance(target, Author) else subscription.organizations
    followed.remove(target)


def follow_kind(target: Author | Organization) -> str:
    """ "author" or "organization": what follow_target takes back."""
    return "author" if isinstance(target, Author) else "organization"


def new_papers_of(target: Author | Organization) -> str:
    """How pages say whose new papers these are: "by Ada Lovelace", "from DeepMind"."""
    return f"by {target.name}" if isinstance(target, Author) else f"from {target.name}"


def with_follow_added(initial: dict[str, object], target: Author | Organization | None) -> dict[str, object]:
    """Form text (preferences_as_text) with this author or organization added as a line, if not there already."""
    if target is None:
        return initial
    field, line = ("authors", target.name) if isinstance(target, Author) else ("organizations", target.slug)
    lines = [item.strip() for item in str(initial.get(field) or "").splitlines() if item.strip()]
    if {line.lower(), target.name.lower()} & {item.lower() for item in lines}:
        return initial
    return {**initial, field: "\n".join([*lines, line])}
