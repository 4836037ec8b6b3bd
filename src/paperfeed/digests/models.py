"""Email digests: who subscribed to what, and the log that makes each digest go out exactly once."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from paperfeed.community.models import Interests


class Subscription(models.Model):
    """One address's digest: when it comes and how long it is. What it brings are `interests` (community), a
    member's own or the anonymous subscriber's. An account is optional: an email address is enough."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting for the address to be confirmed"
        ACTIVE = "active"
        UNSUBSCRIBED = "unsubscribed"
        BOUNCED = "bounced", "the mail server refused the address for good"

    class Frequency(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly"

    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-cased.")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="For weekly digests: 0 is Monday, 6 Sunday.")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="An IANA name such as Europe/Paris.")
    hour = models.PositiveSmallIntegerField(default=7, help_text="Local hour (0–23) after which the digest is due.")
    top_trending = models.PositiveSmallIntegerField(default=10, help_text="How many trending papers; 0 for none.")
    interests = models.OneToOneField(
        Interests,
        on_delete=models.PROTECT,
        related_name="subscription",
        help_text="What the digest brings: its member's interests, or the anonymous subscriber's own.",
    )
    max_papers = models.PositiveSmallIntegerField(default=20, help_text="At most this many papers per digest.")
    source = models.CharField(max_length=16, default="site", help_text="site, or import for imported lists.")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.frequency}, {self.status})"

    def save(self, *args, **kwargs) -> None:
        """A subscription always brings someone's interests: its member's (made if they have none yet), or, for an
        anonymous subscriber, new ones of its own."""
        if self.interests_id is None:
            if self.user_id is not None:
                self.interests, _ = Interests.objects.get_or_create(user_id=self.user_id)
            else:
                self.interests = Interests.objects.create()
        super().save(*args, **kwargs)


@receiver(post_delete, sender=Subscription, dispatch_uid="paperfeed.digests.anonymous-interests")
def _forget_anonymous_interests(sender, instance: Subscription, **kwargs) -> None:
    """An anonymous subscriber's interests were only their digest's: they go with it (a member's stay theirs)."""
    Interests.objects.filter(pk=instance.interests_id, user__isnull=True).delete()


class Delivery(models.Model):
    """The send log: one row per subscription and digest period, claimed before sending (see services/sending)."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "claimed by a run, being sent"
        SENT = "sent"
        EMPTY = "empty", "nothing new: no email"
        FAILED = "failed", "refused for good by the mail server"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(max_length=32, help_text="daily:2026-11-28 or weekly:2026-W48, in local time.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    paper_count = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    # What the digest held, so that the next ones never repeat a paper and pick up the list where it stopped.
    papers = models.JSONField(default=list, blank=True, help_text="Ids of the papers this digest sent.")
    listed_through = models.DateField(
        null=True, blank=True, help_text="The latest daily-list day this digest looked at (the next one starts there)."
    )

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="delivery_once_per_period")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="delivery_status_claimed")]

    def __str__(self) -> str:
        return f"{self.subscription.email} {self.period}: {self.status}"


class Webhook(models.Model):
    """A chat channel (Slack, Mattermost, Discord) or any HTTPS endpoint (signed JSON) that gets papers posted to it
    on a schedule: what it gets is a content kind (services/chat_content.py: a member's digest, one of their saved
    searches, …). `owner` is the member who manages it and whose interests a digest follows."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        MATTERMOST = "mattermost", "Mattermost"
        DISCORD = "discord", "Discord"
        JSON = "json", "JSON (signed, for your own program)"

    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused", "paused: the receiver refused a delivery for good"

    class Schedule(models.TextChoices):
        EMAIL = "email", "as my email digest"
        DAILY = "daily"
        WEEKLY = "weekly"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names its deliveries' ids.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    group = models.ForeignKey(
        "community.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="A reading group's webhook (content “group”): its owners and editors manage it.",
    )
    label = models.CharField(max_length=80, blank=True, help_text="How the member names it, e.g. #reading-group.")
    url = models.CharField(max_length=500, help_text="https only; checked again before every delivery.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    content = models.CharField(max_length=32, default="digest", help_text="A key of chat_content.CONTENT_KINDS.")
    search_q = models.CharField(max_length=500, blank=True, help_text="The saved search it follows.")
    search_mode = models.CharField(max_length=16, blank=True)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.DAILY)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="For weekly deliveries: 0 is Monday, 6 Sunday.")
    time_zone = models.CharField(max_length=64, default="UTC")
    hour = models.PositiveSmallIntegerField(default=7, help_text="Local hour (0–23) after which a delivery is due.")
    secret = models.CharField(max_length=80, blank=True, help_text="Signs the JSON kind's body (HMAC-SHA256).")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    retry_not_before = models.DateTimeField(null=True, blank=True, help_text="A 429's Retry-After, honoured.")
    last_error = models.TextField(blank=True, help_text="The last temporary failure; retried by the next run.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_result = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} webhook of {self.owner} ({self.content}, {self.status})"


class WebhookDelivery(models.Model):
    """The chat send log: one row per webhook and period, claimed before posting (see services/chat.py)."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "claimed by a run, being posted"
        SENT = "sent"
        EMPTY = "empty", "nothing new: nothing posted"
        FAILED = "failed", "refused for good by the receiver"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=40, help_text="The period (daily:2026-11-28, weekly:2026-W48), local time.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    paper_count = models.PositiveSmallIntegerField(default=0)
    papers = models.JSONField(default=list, blank=True, help_text="Ids of the papers this delivery posted.")
    listed_through = models.DateField(null=True, blank=True, help_text="The latest daily-list day it looked at.")
    answer = models.TextField(blank=True, help_text="The receiver's answer (status and the start of its body).")

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["webhook", "key"], name="webhook_delivery_once_per_period")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="webhook_delivery_claimed")]

    def __str__(self) -> str:
        return f"webhook {self.webhook_id} {self.key}: {self.status}"
