"""The workers that run the task queue, each with a heartbeat (the queue itself is django_tasks_db's table)."""

from django.db import models


class Worker(models.Model):
    """A running `paperfeed worker` process. It updates `seen_at` every few seconds; when that stops, its running
    tasks are handed back to the queue."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"worker {self.worker_id} (pid {self.pid} on {self.hostname})"
