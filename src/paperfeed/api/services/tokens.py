"""API tokens: making them (the secret is shown once), listing and revoking them, and finding whose a secret is.

A secret is `pf_` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored: a leaked database
gives no working token, and a fast hash is enough for a random secret of that length (nothing to guess).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from paperfeed.api.models import ApiToken

SECRET_PREFIX = "pf_"
SECRET_BYTES = 32
SHOWN_CHARS = 10  # "pf_" and the first seven random characters, enough to tell a user's tokens apart
NAME_CHARS = ApiToken._meta.get_field("name").max_length
MAX_TOKENS = 20  # per user: enough for every script and machine; more is usually forgotten tokens
# last_used_at is written at most this often per token, so that a busy script does not write on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenRefused(Exception):
    """A token that cannot be made; the message says why, in the user's words."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to the user once, never stored


def digest(secret: str) -> str:
    """The SHA-256 of a secret, in hex: what is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: AbstractBaseUser, name: str) -> NewToken:
    """A new token for the user, named `name` (spaces tidied); TokenRefused when the name is empty or too long,
    or the user already has MAX_TOKENS tokens."""
    name = " ".join(name.split())
    if not name:
        raise TokenRefused("Give the token a name that says where you will use it, e.g. “laptop” or “lab bot”.")
    if len(name) > NAME_CHARS:
        raise TokenRefused(f"A token name can be at most {NAME_CHARS} characters; this one has {len(name)}.")
    if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS:
        raise TokenRefused(
            f"You have {MAX_TOKENS} tokens, the most one account can have. Revoke one you no longer use first."
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken.objects.create(user=user, name=name, digest=digest(secret), prefix=secret[:SHOWN_CHARS])
    return NewToken(token, secret)


def tokens_of(user: AbstractBaseUser) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def revoke_token(user: AbstractBaseUser, token_id: int) -> ApiToken | None:
    """Delete the user's token with this id, and return it; None when the user has no such token."""
    token = ApiToken.objects.filter(user=user, id=token_id).first()
    if token is not None:
        token.delete()
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The token (with its user) whose secret this is, None when there is none; notes when it was last used."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ApiToken.objects.filter(stale, id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token
