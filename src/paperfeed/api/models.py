"""API tokens: what a user's scripts send as `Authorization: Bearer <token>` to vote, submit and curate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A named token of one user. Only a SHA-256 digest of the secret is kept: the secret is shown once, when made.

    Revoking a token deletes it, so a revoked token and one that never existed are refused alike.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the owner uses it for, e.g. “reading-group bot”.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret, in hex.")
    prefix = models.CharField(max_length=16, help_text="The secret's first characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "created_at"], name="api_token_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"
