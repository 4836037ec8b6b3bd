"""Email digests: who subscribed to what, and the log that makes each digest go out exactly once."""

from __future__ import annotations

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
