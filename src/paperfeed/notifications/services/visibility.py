"""Who may hear of a comment: the one decision every notification, page and email about a comment goes through."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from paperfeed.community.models import Comment
from paperfeed.community.services.comments import is_deleted, visible_to


def may_see(user: AbstractBaseUser, comment: Comment) -> bool:
    """Whether `user` may be told of `comment` (and shown its text): an active member, and a comment anyone may
    read — not hidden by a moderator, not deleted, under a paper that is not hidden, and, in a reading group's
    private discussion, only a member of that group (community's comments.visible_to).

    Every "may this person hear of this comment" question asks this function."""
    if not user.is_active or comment.hidden or is_deleted(comment):
        return False
    return not comment.paper.hidden and visible_to(user, comment)
