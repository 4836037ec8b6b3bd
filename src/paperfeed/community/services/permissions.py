"""Who may do what: the one place that decides whether a user may vote, comment, submit or curate."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from paperfeed.community.models import Profile


def profile_of(user: AbstractBaseUser) -> Profile:
    """The user's profile, created on first need (accounts made by `createsuperuser` have none yet)."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def posting_problem(user: AbstractBaseUser | AnonymousUser, needs_verified_email: bool = True) -> str | None:
    """Why this user may not post (vote, comment, submit), in words for them; None when they may.

    Votes need a signed-in account in good standing; comments and submissions also need a confirmed email
    address, so that a throwaway account cannot flood a discussion.
    """
    if not user.is_authenticated:
        return "Sign in to do that."
    if not user.is_active:
        return "This account is disabled."
    profile = profile_of(user)
    if profile.banned:
        return "This account has been banned from posting and voting."
    if needs_verified_email and not profile.email_verified and not user.is_staff:
        return "Confirm your email address first: follow the link we sent you (or ask for a new one in Settings)."
    return None
