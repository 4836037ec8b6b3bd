"""Notification emails as background work: each at-once email as a task, and the worker's periodic pass (the at-once
emails still owed, and the daily summaries once a day)."""

from __future__ import annotations

from paperfeed.background.queue import enqueue_once, task
from paperfeed.notifications.services.sending import send_at_once, send_daily, send_owed


@task()
def email_at_once(ids: list[int]) -> str:
    """Email these notifications now (those the member wants at once, that no other sender has taken)."""
    return send_at_once(ids).describe("Notifications at once")


@task()
def notification_pass() -> str:
    """What the worker does every few minutes: send the at-once emails still owed, and the daily summaries that
    are due (each member's once a day)."""
    owed = send_owed().describe("Owed at once")
    return f"{owed} {send_daily().describe('Daily summaries')}"


def request() -> bool:
    """Ask a worker for a notification pass (no-op when one already waits, or with a backend that would run it in
    the caller, as the in-process tests' immediate backend would)."""
    if not notification_pass.get_backend().supports_defer:
        return False
    return enqueue_once(notification_pass)
