"""What moderators do: hide and show papers and comments, ban and unban users.

Nothing is deleted: a hidden paper or comment can be shown again as it was, and a banned user keeps an account
they can read with. What hiding means for each page is decided elsewhere, once: `Paper.objects.visible()` for
papers; comment threads and counts leave out hidden comments.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet

from paperfeed.community.models import Comment, Profile
from paperfeed.papers.models import Paper
from paperfeed.papers.retrieval import keep_in_step


def _set_papers_hidden(papers: QuerySet[Paper], hidden: bool) -> int:
    with transaction.atomic():
        ids = list(papers.exclude(hidden=hidden).values_list("id", flat=True))
        Paper.objects.filter(id__in=ids).update(hidden=hidden)
        keep_in_step()  # the keyword index holds only papers anyone may see
    return len(ids)


def hide_papers(papers: QuerySet[Paper]) -> int:
    """Take these papers off every list, search, feed and page; returns how many were visible."""
    return _set_papers_hidden(papers, True)


def show_papers(papers: QuerySet[Paper]) -> int:
    """Put hidden papers back everywhere they were; returns how many were hidden."""
    return _set_papers_hidden(papers, False)


def paper_edited(paper_ids: list[int]) -> None:
    """After an edit in the admin (hidden ticked, title or authors changed): keyword search follows at once
    (the database's change log has recorded the edit; this applies it now rather than at the next search)."""
    keep_in_step()


def hide_comments(comments: QuerySet[Comment]) -> int:
    """Take these comments off their pages and out of comment counts; returns how many were shown."""
    return comments.filter(hidden=False).update(hidden=True)


def show_comments(comments: QuerySet[Comment]) -> int:
    """Show hidden comments again; returns how many were hidden."""
    return comments.filter(hidden=True).update(hidden=False)


def _set_banned(users: QuerySet[AbstractBaseUser], banned: bool) -> int:
    with transaction.atomic():
        ids = list(users.values_list("pk", flat=True))
        # Accounts made by `createsuperuser` (or before profiles existed) have no profile yet.
        Profile.objects.bulk_create([Profile(user_id=pk) for pk in ids], ignore_conflicts=True)
        return Profile.objects.filter(user_id__in=ids).exclude(banned=banned).update(banned=banned)


def ban_users(users: QuerySet[AbstractBaseUser]) -> int:
    """Stop these users from posting, voting, submitting and claiming; they can still sign in and read.
    Returns how many were not banned before."""
    return _set_banned(users, True)


def unban_users(users: QuerySet[AbstractBaseUser]) -> int:
    """Let banned users post and vote again; returns how many were banned."""
    return _set_banned(users, False)
