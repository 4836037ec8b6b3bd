"""A member's notifications on the site: the unread count of the bell, the list, reading them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.utils import timezone

from paperfeed.notifications.models import Notification
from paperfeed.notifications.services.describe import Described, describe

PAGE_SIZE = 25


def unread_count(user: AbstractBaseUser) -> int:
    """How many of the member's notifications are unread: one COUNT over the (recipient, read_at) index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def page_of(user: AbstractBaseUser, number: int) -> Page:
    """One page of the member's notifications (Described), newest first."""
    ordered = (
        Notification.objects.filter(recipient=user)
        .select_related("recipient", "actor", "paper", "comment__paper", "claim__author")
        .order_by("-created", "-id")
    )
    page = Paginator(ordered, PAGE_SIZE).get_page(number)
    page.object_list = [describe(n) for n in page.object_list]
    return page


def open_one(user: AbstractBaseUser, notification_id: int) -> Described | None:
    """The member's notification, now read; None when they have none of that number (another member's included)."""
    notification = (
        Notification.objects.filter(recipient=user, pk=notification_id)
        .select_related("recipient", "actor", "paper", "comment__paper", "claim__author")
        .first()
    )
    if notification is None:
        return None
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return describe(notification)


def mark_all_read(user: AbstractBaseUser) -> int:
    """Mark every unread notification of the member read; how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
