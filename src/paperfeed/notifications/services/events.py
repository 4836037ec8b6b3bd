"""What makes notifications: a comment posted or edited, a claim decided. Heard through Django's model signals on
community's models, so community knows nothing of notifications.

A comment makes one notification per member at most, of the most specific kind that applies to them: a mention
(names them) before a reply (answers their comment) before a comment on a paper they submitted or are a confirmed
author of. Nobody is told of what they did themselves, nor of a comment they may not see (visibility.may_see).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models.signals import post_init, post_save

from paperfeed.community.models import AuthorClaim, Comment
from paperfeed.community.services.comments import is_deleted
from paperfeed.community.services.mentions import members_named, usernames_named
from paperfeed.core.markdown import mentioned_usernames
from paperfeed.notifications.models import Delivery, Kind, Notification
from paperfeed.notifications.services import preferences, tasks
from paperfeed.notifications.services.visibility import may_see
from paperfeed.papers.models import DailyEntry

MOST_SPECIFIC_FIRST = (Kind.MENTION, Kind.REPLY, Kind.PAPER_COMMENT)
DECIDED = {AuthorClaim.Status.APPROVED: Kind.CLAIM_APPROVED, AuthorClaim.Status.REJECTED: Kind.CLAIM_REFUSED}


def mentioned(comment: Comment) -> list[User]:
    """The members the comment's text mentions (as its rendering links them)."""
    return members_named(mentioned_usernames(comment.body, usernames_named))


def _paper_people(comment: Comment) -> set[int]:
    """Who submitted the comment's paper, and who is confirmed as one of its authors."""
    submitters = DailyEntry.objects.filter(
        paper_id=comment.paper_id, source=DailyEntry.Source.SUBMISSION, submitted_by__isnull=False
    ).values_list("submitted_by", flat=True)
    authors = AuthorClaim.objects.filter(paper_id=comment.paper_id, status=AuthorClaim.Status.APPROVED).values_list(
        "user_id", flat=True
    )
    return set(submitters) | set(authors)


def _reasons(comment: Comment, mentions: list[User]) -> dict[int, Kind]:
    """{member id: the most specific kind that applies to them}."""
    by_kind: dict[Kind, set[int]] = {kind: set() for kind in MOST_SPECIFIC_FIRST}
    by_kind[Kind.MENTION] = {user.pk for user in mentions}
    parent = comment.parent
    if parent is not None and not parent.hidden and not is_deleted(parent):
        by_kind[Kind.REPLY].add(parent.author_id)
    by_kind[Kind.PAPER_COMMENT] = _paper_people(comment)
    reasons: dict[int, Kind] = {}
    for kind in reversed(MOST_SPECIFIC_FIRST):  # the more specific kinds overwrite
        reasons |= dict.fromkeys(by_kind[kind], kind)
    reasons.pop(comment.author_id, None)
    return reasons


def _notify_of_comment(comment: Comment, reasons: dict[int, Kind]) -> None:
    if not reasons:
        return
    recipients = [user for user in User.objects.filter(pk__in=reasons) if may_see(user, comment)]
    rows = []
    for kind in MOST_SPECIFIC_FIRST:
        ids = [user.pk for user in recipients if reasons[user.pk] == kind]
        plans = preferences.deliveries(ids, kind)
        rows += [
            Notification(
                recipient_id=pk,
                kind=kind,
                actor_id=comment.author_id,
                paper_id=comment.paper_id,
                comment=comment,
                email_plan=plans[pk],
            )
            for pk in ids
        ]
    # One per member and comment (a constraint): an edit mentioning someone already told adds nothing.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    _email_at_once(Notification.objects.filter(comment=comment, emailed_at__isnull=True))


def _email_at_once(notifications) -> None:
    """Hand the notifications to be emailed at once to the queue, in the caller's transaction."""
    ids = list(
        notifications.filter(email_plan=Delivery.NOW, email_claimed_at__isnull=True).values_list("id", flat=True)
    )
    if ids:
        tasks.email_at_once.enqueue(ids)


def comment_posted(comment: Comment) -> None:
    """Tell the members a new comment concerns."""
    if comment.hidden or is_deleted(comment):
        return
    _notify_of_comment(comment, _reasons(comment, mentioned(comment)))


def comment_edited(comment: Comment) -> None:
    """An edit that mentions someone new tells them (and only them: the others heard of the comment already)."""
    if comment.hidden or is_deleted(comment):
        return
    reasons = {user.pk: Kind.MENTION for user in mentioned(comment) if user.pk != comment.author_id}
    told = Notification.objects.filter(comment=comment, recipient_id__in=reasons).values_list("recipient_id", flat=True)
    for pk in told:
        reasons.pop(pk)
    _notify_of_comment(comment, reasons)


def claim_decided(claim: AuthorClaim) -> None:
    """Tell the member their authorship claim was approved or refused."""
    kind = DECIDED[claim.status]
    plan = preferences.deliveries([claim.user_id], kind)[claim.user_id]
    notification = Notification.objects.create(
        recipient_id=claim.user_id, kind=kind, paper_id=claim.paper_id, claim=claim, email_plan=plan
    )
    _email_at_once(Notification.objects.filter(pk=notification.pk))


# --- the signals ---


def _comment_saved(sender, instance: Comment, created: bool, update_fields=None, **kwargs) -> None:
    if created:
        comment_posted(instance)
    elif update_fields is None or "body" in update_fields:
        comment_edited(instance)


def _claim_loaded(sender, instance: AuthorClaim, **kwargs) -> None:
    instance._status_before = instance.status if instance.pk else None


def _claim_saved(sender, instance: AuthorClaim, created: bool, **kwargs) -> None:
    before = getattr(instance, "_status_before", None)
    instance._status_before = instance.status
    if instance.status != before and instance.status in DECIDED:
        claim_decided(instance)


def connect() -> None:
    """Listen to community's comments and claims (once, however often the app is readied)."""
    post_save.connect(_comment_saved, sender=Comment, dispatch_uid="paperfeed.notifications.comment")
    post_init.connect(_claim_loaded, sender=AuthorClaim, dispatch_uid="paperfeed.notifications.claim-loaded")
    post_save.connect(_claim_saved, sender=AuthorClaim, dispatch_uid="paperfeed.notifications.claim")
