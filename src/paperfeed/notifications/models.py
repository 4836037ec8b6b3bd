"""Notifications: what a member is told of (replies, mentions, comments on their papers, claim decisions), and how
they want to hear of each kind by email. The email fields are the send log that makes each email go out once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from paperfeed.community.models import AuthorClaim, Comment
from paperfeed.papers.models import Paper


class Kind(models.TextChoices):
    MENTION = "mention", "mentioned you"
    REPLY = "reply", "replied to your comment"
    PAPER_COMMENT = "paper-comment", "commented on your paper"
    CLAIM_APPROVED = "claim-approved", "claim approved"
    CLAIM_REFUSED = "claim-refused", "claim refused"


class Topic(models.TextChoices):
    """What a member chooses email for: a kind, or (for claims) both outcomes together."""

    REPLY = "reply", "Replies to your comments"
    MENTION = "mention", "Mentions of you (@username)"
    PAPER_COMMENT = "paper-comment", "New comments on papers you submitted or wrote"
    CLAIM = "claim", "Decisions on your authorship claims"


TOPIC_OF = {
    Kind.MENTION: Topic.MENTION,
    Kind.REPLY: Topic.REPLY,
    Kind.PAPER_COMMENT: Topic.PAPER_COMMENT,
    Kind.CLAIM_APPROVED: Topic.CLAIM,
    Kind.CLAIM_REFUSED: Topic.CLAIM,
}


class Delivery(models.TextChoices):
    NOW = "now", "at once"
    DAILY = "daily", "in a daily summary"
    NEVER = "never", "never"


DEFAULT_DELIVERY = {
    Topic.REPLY: Delivery.NOW,
    Topic.MENTION: Delivery.NOW,
    Topic.PAPER_COMMENT: Delivery.DAILY,
    Topic.CLAIM: Delivery.NOW,
}


def _delivery_field(topic: Topic) -> models.CharField:
    return models.CharField(
        max_length=8, choices=Delivery.choices, default=DEFAULT_DELIVERY[topic], help_text=f"{topic.label}: email"
    )


class EmailPreferences(models.Model):
    """How a member wants each topic by email; a member without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_email"
    )
    reply = _delivery_field(Topic.REPLY)
    mention = _delivery_field(Topic.MENTION)
    paper_comment = _delivery_field(Topic.PAPER_COMMENT)
    claim = _delivery_field(Topic.CLAIM)
    summary_sent_on = models.DateField(
        null=True, blank=True, help_text="The UTC day of the last daily summary: claimed before it is sent."
    )

    class Meta:
        verbose_name = "notification email preferences"
        verbose_name_plural = "notification email preferences"

    def __str__(self) -> str:
        return f"notification emails of {self.user}"


FIELD_OF = {Topic.REPLY: "reply", Topic.MENTION: "mention", Topic.PAPER_COMMENT: "paper_comment", Topic.CLAIM: "claim"}


class Notification(models.Model):
    """One thing one member is told of. A comment event makes one row per recipient at most (the constraint), of
    the most specific kind that applies."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Who did it; empty for a moderator's decision.",
    )
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    claim = models.ForeignKey(AuthorClaim, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_plan = models.CharField(
        max_length=8, choices=Delivery.choices, help_text="How it is to be emailed: the member's choice when it came."
    )
    email_claimed_at = models.DateTimeField(null=True, blank=True, help_text="A sender took it at this time.")
    email_claim = models.CharField(max_length=32, blank=True, help_text="Which sender run took it.")
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True, help_text="Why it was not emailed, if it never is.")

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-created"], name="notification_inbox"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["email_plan", "emailed_at"], name="notification_email_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "comment"],
                condition=Q(comment__isnull=False),
                name="notification_once_per_comment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.kind} on {self.paper_id}"
