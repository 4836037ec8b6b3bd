"""The task API paperfeed uses: Django's `django.tasks` where Django has it (6.0+), else the django-tasks package
it came from. Everything else imports `task` and the helpers from here."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

try:  # Django 6
    from django.tasks import TaskResultStatus, task
except ImportError:  # Django 5.2
    from django_tasks import TaskResultStatus, task

__all__ = ["TaskResultStatus", "defer", "enqueue_once", "task"]


def enqueue_once(work) -> bool:
    """Enqueue `work` (a task taking no arguments) unless it already waits in the queue or is running; True if it
    was enqueued. For upkeep that any worker may do and that needs doing once, however many ask."""
    backend = work.get_backend()
    if backend.supports_get_result:  # the database backend: look at the queue
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=work.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        )
        if waiting.exists():
            return False
    work.enqueue()
    return True


def defer(work, seconds: float):
    """`work` to run no sooner than `seconds` from now; None when the backend cannot wait (the immediate backend
    of some tests), so that the caller does not retry at once in a loop."""
    if work.get_backend().supports_defer:
        return work.using(run_after=timezone.now() + timedelta(seconds=seconds))
    return None
