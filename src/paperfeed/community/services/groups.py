"""Reading groups: making one, who is in it and in which role, invitations, the week's pin and the members' activity.

Everything private to a group answers a non-member as if it did not exist (callers turn None into a 404), so a
group's name, members or papers never leak through an error message. Roles: owners manage members, roles and
invitations; editors (and owners) add to the group's collections and pin the week's reading; members read and
discuss. A group always keeps at least one owner.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, CharField, F, QuerySet, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from paperfeed.background.mail import queue_email
from paperfeed.community.models import Collection, CollectionItem, Group, Invitation, Membership, WeeklyPin
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.models import Paper, Vote, visible_condition

Role = Membership.Role
NAME_CHARS = 100
DESCRIPTION_CHARS = 2_000
NOTE_CHARS = 500
INVITATION_DAYS = 7
ACTIVITY_PAGE = 30
RESERVED_SLUGS = frozenset({"join"})  # /groups/join/<token> is the invitations' address
_SLUG_STEM_CHARS = 90
_ORDER = {Role.OWNER: 0, Role.EDITOR: 1, Role.MEMBER: 2}


class GroupRefused(Exception):
    """A change to a group that cannot be made; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- who is in which group ---


def membership(user: AbstractBaseUser | AnonymousUser, group: Group | int) -> Membership | None:
    """The user's membership of the group, or None (signed out, or not a member)."""
    if not user.is_authenticated:
        return None
    group_id = group.pk if isinstance(group, Group) else group
    return Membership.objects.filter(group_id=group_id, user=user).first()


def member_group_ids(user: AbstractBaseUser | AnonymousUser) -> QuerySet:
    """The ids of the groups the user is in, as a subquery (empty for a visitor who is not signed in)."""
    if not user.is_authenticated:
        return Membership.objects.none().values("group_id")
    return Membership.objects.filter(user=user).values("group_id")


def curating_group_ids(user: AbstractBaseUser | AnonymousUser) -> QuerySet:
    """The ids of the groups whose collections the user may add to (they are an editor or an owner there)."""
    if not user.is_authenticated:
        return Membership.objects.none().values("group_id")
    return Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.EDITOR]).values("group_id")


def is_member(user: AbstractBaseUser | AnonymousUser, group_id: int | None) -> bool:
    return group_id is not None and membership(user, group_id) is not None


def may_curate(user: AbstractBaseUser | AnonymousUser, group_id: int) -> bool:
    """Whether the user may add to and take from the group's collections, and pin its week's reading."""
    found = membership(user, group_id)
    return found is not None and found.role in (Role.OWNER, Role.EDITOR) and posting_problem(user, False) is None


def group_for_member(slug: str, user: AbstractBaseUser | AnonymousUser) -> tuple[Group, Membership] | None:
    """The group at /groups/<slug> and the user's membership of it; None when there is no such group or the user
    is not in it (the same answer, so that a group's existence does not leak)."""
    if not user.is_authenticated:
        return None
    found = Membership.objects.filter(group__slug=slug, user=user).select_related("group").first()
    return (found.group, found) if found is not None else None


def groups_of(user: AbstractBaseUser) -> list[Membership]:
    """The user's memberships, each with its group, groups by name."""
    return list(Membership.objects.filter(user=user).select_related("group").order_by("group__name", "group_id"))


def members(group: Group) -> list[Membership]:
    """The group's members: owners first, then editors, then members, each by username."""
    found = list(Membership.objects.filter(group=group).select_related("user"))
    return sorted(found, key=lambda m: (_ORDER[m.role], m.user.username.lower()))


# --- making a group ---


def _clean(name: str, description: str) -> tuple[str, str]:
    name, description = " ".join(name.split()), description.replace("\r\n", "\n").strip()
    if not name:
        raise GroupRefused("Give the group a name.")
    if len(name) > NAME_CHARS:
        raise GroupRefused(f"A group name can be at most {NAME_CHARS} characters; this one has {len(name)}.")
    if len(description) > DESCRIPTION_CHARS:
        raise GroupRefused(
            f"A description can be at most {DESCRIPTION_CHARS:,} characters; this one has {len(description):,}."
        )
    return name, description


def _slug_candidates(name: str):
    stem = slugify(name)[:_SLUG_STEM_CHARS].strip("-") or "group"
    if stem not in RESERVED_SLUGS:
        yield stem
    n = 2
    while True:
        yield f"{stem}-{n}"
        n += 1


def create_group(user: AbstractBaseUser, name: str, description: str = "") -> Group:
    """A new group with the user as its owner; its address (slug) is made from its name, unique on the site."""
    problem = posting_problem(user, needs_verified_email=False)
    if problem:
        raise GroupRefused(problem, status=403)
    name, description = _clean(name, description)
    for slug in _slug_candidates(name):
        if Group.objects.filter(slug=slug).exists():
            continue
        try:
            with transaction.atomic():
                group = Group.objects.create(name=name, slug=slug, description=description, created_by=user)
                Membership.objects.create(group=group, user=user, role=Role.OWNER)
                return group
        except IntegrityError:
            continue  # the same slug made at the same moment by another request: take the next one
    raise AssertionError("unreachable: slug candidates never run out")


# --- invitations ---


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once (or emailed): only its hash is kept

    @property
    def path(self) -> str:
        return reverse("group-join", args=[self.token])


def _check_owner(actor: AbstractBaseUser, group: Group) -> Membership:
    found = membership(actor, group)
    if found is None:
        raise GroupRefused("There is no such group.", status=404)
    if found.role != Role.OWNER:
        raise GroupRefused(f"Only the owners of {group.name} can do that.", status=403)
    problem = posting_problem(actor, needs_verified_email=False)
    if problem:
        raise GroupRefused(problem, status=403)
    return found


def invite(actor: AbstractBaseUser, group: Group, role: str = Role.MEMBER, email: str = "") -> NewInvitation:
    """A one-time invitation, lasting INVITATION_DAYS days; with an email address, the link is emailed there (by
    the task queue, in the caller's transaction)."""
    _check_owner(actor, group)
    if role not in Role.values:
        raise GroupRefused(f"{role[:20]!r} is not a role: choose owner, editor or member.")
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise GroupRefused(f"“{email[:100]}” is not an email address.") from None
    token = secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=INVITATION_DAYS)
    with transaction.atomic():
        made = Invitation.objects.create(
            group=group, token_hash=_hash(token), email=email, role=role, created_by=actor, expires_at=expires
        )
        new = NewInvitation(made, token)
        if email:
            _email_invitation(new, actor)
    return new


def _email_invitation(new: NewInvitation, actor: AbstractBaseUser) -> None:
    invitation = new.invitation
    context = {
        "group": invitation.group,
        "inviter": actor,
        "role": invitation.role,
        "link": settings.PAPERFEED_SITE_URL + new.path,
        "days": INVITATION_DAYS,
        "site_url": settings.PAPERFEED_SITE_URL,
    }
    subject = " ".join(render_to_string("community/email/group_invitation_subject.txt", context).split())
    body = render_to_string("community/email/group_invitation.txt", context)
    queue_email("group_invitation", invitation.email, subject, body, expires=invitation.expires_at)


class InvitationInvalid(GroupRefused):
    """A link that does not (or no longer) invite anyone: forged, used or expired."""


def invitation_for(token: str) -> Invitation:
    """The invitation a link's token names, if it can still be accepted; InvitationInvalid says why not."""
    found = Invitation.objects.select_related("group").filter(token_hash=_hash(token)).first() if token else None
    if found is None:
        raise InvitationInvalid(
            "This invitation link is not valid: check that it was copied whole, or ask for a new one.", 404
        )
    if found.used_at is not None:
        raise InvitationInvalid("This invitation was already used. Ask the group's owner for a new one.", 410)
    if found.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired. Ask the group's owner for a new one.", 410)
    return found


def _masked(address: str) -> str:
    """ada@example.org -> a***@example.org: enough for its owner to recognise, not to give it to anyone else."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _check_addressee(user: AbstractBaseUser, invitation: Invitation) -> None:
    """An invitation sent by email is for the account of that address, confirmed (a forwarded email, or an account
    that merely typed the address in, does not join); a link invitation is for whoever has the link."""
    if not invitation.email:
        return
    if (user.email or "").lower() != invitation.email.lower():
        raise GroupRefused(
            f"This invitation was sent to {_masked(invitation.email)}: sign in with the account of that address to "
            "accept it, or ask the group's owner for an invitation link.",
            status=403,
        )
    problem = posting_problem(user, needs_verified_email=True)
    if problem:
        raise GroupRefused(problem, status=403)


def accept(user: AbstractBaseUser, token: str) -> Membership:
    """Join the group the invitation names, in its role; the invitation is used up. A member already in the group
    keeps their membership and leaves the invitation for someone else."""
    problem = posting_problem(user, needs_verified_email=False)
    if problem:
        raise GroupRefused(problem, status=403)
    invitation = invitation_for(token)
    existing = membership(user, invitation.group)
    if existing is not None:
        return existing
    _check_addressee(user, invitation)
    now = timezone.now()
    try:
        with transaction.atomic():
            # Claimed by a conditional update: of two requests with the same link, one joins and the other is told.
            claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True, expires_at__gt=now).update(
                used_at=now, used_by=user
            )
            if claimed != 1:
                raise InvitationInvalid("This invitation was already used. Ask the group's owner for a new one.", 410)
            return Membership.objects.create(group=invitation.group, user=user, role=invitation.role)
    except IntegrityError:
        # They joined by another invitation at the same moment: that membership stands, this invitation stays unused.
        existing = membership(user, invitation.group)
        if existing is None:
            raise
        return existing


def pending_invitations(group: Group) -> list[Invitation]:
    """Invitations not used and not expired, newest first (their links cannot be shown again: only hashes are kept)."""
    found = Invitation.objects.filter(group=group, used_at__isnull=True, expires_at__gt=timezone.now())
    return list(found.order_by("-created_at", "-id"))


def revoke_invitation(actor: AbstractBaseUser, group: Group, invitation_id: int) -> None:
    """Withdraw an invitation not used yet: its link stops working."""
    _check_owner(actor, group)
    Invitation.objects.filter(group=group, pk=invitation_id, used_at__isnull=True).delete()


# --- roles and leaving ---


def _locked_memberships(group: Group) -> QuerySet[Membership]:
    # Locked on PostgreSQL, so that two owners demoting each other at once cannot leave the group without one
    # (SQLite runs one write transaction at a time).
    return Membership.objects.select_for_update().filter(group=group)


_LAST_OWNER = "{name} needs at least one owner: make another member an owner first."


def set_role(actor: AbstractBaseUser, group: Group, user_id: int, role: str) -> Membership:
    """Give a member another role (owners only); the last owner cannot be demoted."""
    if role not in Role.values:
        raise GroupRefused(f"{role[:20]!r} is not a role: choose owner, editor or member.")
    _check_owner(actor, group)
    with transaction.atomic():
        rows = list(_locked_memberships(group))
        target = next((m for m in rows if m.user_id == user_id), None)
        if target is None:
            raise GroupRefused("That person is not a member of this group.", status=404)
        owners = sum(m.role == Role.OWNER for m in rows)
        if target.role == Role.OWNER and role != Role.OWNER and owners <= 1:
            raise GroupRefused(_LAST_OWNER.format(name=group.name), status=409)
        target.role = role
        target.save(update_fields=["role"])
        return target


def remove_member(actor: AbstractBaseUser, group: Group, user_id: int) -> None:
    """Take someone out of the group: an owner may remove anyone, anyone may remove themselves (leave); the last
    owner cannot go. Their feed token goes with the membership; what they wrote stays."""
    if actor.pk != user_id:
        _check_owner(actor, group)
    elif membership(actor, group) is None:
        raise GroupRefused("There is no such group.", status=404)
    with transaction.atomic():
        rows = list(_locked_memberships(group))
        target = next((m for m in rows if m.user_id == user_id), None)
        if target is None:
            raise GroupRefused("That person is not a member of this group.", status=404)
        if target.role == Role.OWNER and sum(m.role == Role.OWNER for m in rows) <= 1:
            raise GroupRefused(_LAST_OWNER.format(name=group.name), status=409)
        target.delete()


# --- this week's reading ---


def week_of(day: date) -> date:
    """The Monday of the day's ISO week."""
    return day - timedelta(days=day.weekday())


def pin(actor: AbstractBaseUser, group: Group, address: str, note: str = "", on_date: date | None = None) -> WeeklyPin:
    """Pin the paper as the group's reading for the week of `on_date` (today), replacing that week's pin."""
    if not may_curate(actor, group.pk):
        if not is_member(actor, group.pk):
            raise GroupRefused("There is no such group.", status=404)
        raise GroupRefused(f"Only the editors and owners of {group.name} can pin the week's reading.", status=403)
    note = note.replace("\r\n", "\n").strip()
    if len(note) > NOTE_CHARS:
        raise GroupRefused(f"A note can be at most {NOTE_CHARS} characters; this one has {len(note)}.")
    parsed = parse_address(address.strip()) if address.strip() else None
    if parsed is None:
        raise GroupRefused("Name the paper to pin by its id, e.g. 2503.11731 (or source:id).")
    paper = Paper.objects.visible().named(parsed).first()
    if paper is None:
        raise GroupRefused(f"{parsed.label} is not on this site.", status=404)
    week = week_of(on_date or timezone.localdate())
    found, _ = WeeklyPin.objects.update_or_create(
        group=group,
        week=week,
        defaults={"paper": paper, "note": note, "pinned_by": actor, "pinned_at": timezone.now()},
    )
    return found


def weekly_reading(group: Group, on_date: date) -> WeeklyPin | None:
    """The group's pin for the ISO week holding `on_date`, with its paper; None when nothing was pinned (or the
    paper was hidden since). What a chat delivery of the week's reading sends."""
    found = WeeklyPin.objects.filter(group=group, week=week_of(on_date)).select_related("paper", "pinned_by")
    return found.filter(visible_condition("paper")).first()


def past_pins(group: Group, before: date, most: int = 52) -> list[WeeklyPin]:
    """The group's pins of the weeks before the one holding `before`, the latest first."""
    found = WeeklyPin.objects.filter(group=group, week__lt=week_of(before)).filter(visible_condition("paper"))
    return list(found.select_related("paper", "pinned_by").order_by("-week")[:most])


# --- the members' activity ---


@dataclass(frozen=True)
class Activity:
    """One thing a member did: upvoted a paper, or added it to one of the group's collections."""

    kind: str  # "vote" or "added"
    key: str  # unique among the group's activity, for feed ids and anchors
    username: str
    paper: Paper
    at: datetime
    collection_name: str = ""
    collection_url: str = ""


def _activity_rows(group: Group) -> QuerySet:
    """The members' votes and the additions to the group's collections, newest first, as one UNION query."""
    member_ids = Membership.objects.filter(group=group).values("user_id")
    columns = ("kind", "row_id", "user_id", "paper_id", "at", "collection_id")
    votes = (
        Vote.objects.filter(user_id__in=member_ids)
        .filter(visible_condition("paper"))
        .annotate(kind=Value("vote", CharField()), row_id=F("id"), at=F("created_at"))
        .annotate(collection_id=Value(None, BigIntegerField()))
        .values_list(*columns)
    )
    added = (
        CollectionItem.objects.filter(collection__group=group, added_by__isnull=False)
        .filter(visible_condition("paper"))
        .annotate(kind=Value("added", CharField()), row_id=F("id"), user_id=F("added_by_id"), at=F("added_at"))
        .values_list(*columns)
    )
    return votes.union(added, all=True).order_by("-at", "-row_id")


def activity(group: Group, page: int = 1, per_page: int = ACTIVITY_PAGE) -> Page:
    """A page of the members' recent activity, newest first; its object_list holds Activity entries. A page past
    the last one is the last one."""
    current = Paginator(_activity_rows(group), per_page).get_page(page)
    rows = list(current.object_list)
    papers = Paper.objects.in_bulk({row[3] for row in rows})
    users = dict(User.objects.filter(pk__in={row[2] for row in rows}).values_list("pk", "username"))
    collections = Collection.objects.select_related("owner").in_bulk({row[5] for row in rows if row[5]})
    entries = []
    for kind, row_id, user_id, paper_id, at, collection_id in rows:
        collection = collections.get(collection_id)
        entries.append(
            Activity(
                kind=kind,
                key=f"{kind}-{row_id}",
                username=users.get(user_id, ""),
                paper=papers[paper_id],
                at=at,
                collection_name=collection.name if collection else "",
                collection_url=reverse("collection", args=[collection.owner.username, collection.slug])
                if collection
                else "",
            )
        )
    current.object_list = entries
    return current


def member_by_feed_token(slug: str, token: str) -> Membership | None:
    """The membership whose feed token this is, in the group at `slug`; None for a wrong, revoked or another
    group's token."""
    if not token or len(token) > 64:
        return None
    found = Membership.objects.filter(group__slug=slug, feed_token=token).select_related("group", "user").first()
    if found is None or not secrets.compare_digest(found.feed_token, token):
        return None
    return found
