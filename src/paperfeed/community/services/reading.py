"""A member's own reading: private Markdown notes on papers, "read" marks and a reading queue.

Everything here is read and written for one user, the one signed in: no function takes another user's rows, so no
page can show them to anyone else. Notes are written in the comments' Markdown and kept to the same length.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from paperfeed.community.models import Note, QueueEntry, ReadMark
from paperfeed.core.markdown import MarkdownTooLong, check_length, render_markdown
from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Paper

RECENTLY_READ = 50  # how many of the papers last marked read /reading lists
NOTES_SHOWN = 200  # how many notes /reading lists at once, newest changed first


class ReadingRefused(Exception):
    """A note, mark or queue change that cannot be made as asked; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ReadingState:
    """What the paper page shows a member of their own reading of one paper."""

    note: Note | None
    read: bool
    queued: bool


def reading_paper(address: PaperAddress) -> Paper:
    """The paper a note, mark or queue entry is for; ReadingRefused (404) when there is none or a moderator hid it."""
    paper = Paper.objects.visible().named(address).first()
    if paper is None:
        raise ReadingRefused(f"There is no paper {address} here, or it has been hidden.", status=404)
    return paper


def state(user: AbstractBaseUser, paper: Paper) -> ReadingState:
    """The member's note on the paper, and whether they read it or queued it (three small queries)."""
    return ReadingState(
        note=Note.objects.filter(user=user, paper=paper).first(),
        read=ReadMark.objects.filter(user=user, paper=paper).exists(),
        queued=QueueEntry.objects.filter(user=user, paper=paper).exists(),
    )


def save_note(user: AbstractBaseUser, paper: Paper, body: str) -> Note:
    """Write or rewrite the member's note on the paper; ReadingRefused when it is empty or longer than a comment."""
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ReadingRefused("Write something first: the note was empty. To remove a note, delete it.")
    try:
        check_length(body, "A note")
        html = render_markdown(body)
    except MarkdownTooLong as error:
        raise ReadingRefused(str(error)) from None
    with transaction.atomic():
        note, created = Note.objects.get_or_create(user=user, paper=paper, defaults={"body": body, "body_html": html})
        if not created:
            note.body, note.body_html, note.updated_at = body, html, timezone.now()
            note.save(update_fields=["body", "body_html", "updated_at"])
    return note


def delete_note(user: AbstractBaseUser, paper: Paper) -> bool:
    """Delete the member's note on the paper; False when there was none (a second click changes nothing)."""
    deleted, _ = Note.objects.filter(user=user, paper=paper).delete()
    return bool(deleted)


def set_read(user: AbstractBaseUser, paper: Paper, read: bool) -> None:
    """Mark the paper read or unread; idempotent. Reading a paper takes it off the queue: it has been read."""
    with transaction.atomic():
        if read:
            ReadMark.objects.get_or_create(user=user, paper=paper)
            QueueEntry.objects.filter(user=user, paper=paper).delete()
        else:
            ReadMark.objects.filter(user=user, paper=paper).delete()


def set_queued(user: AbstractBaseUser, paper: Paper, queued: bool) -> None:
    """Put the paper on the member's reading queue (at the end) or take it off; idempotent."""
    if queued:
        QueueEntry.objects.get_or_create(user=user, paper=paper)
    else:
        QueueEntry.objects.filter(user=user, paper=paper).delete()


def read_ids(user: AbstractBaseUser) -> QuerySet:
    """The ids of the papers the member has read, as a subquery: lists leave them out in the database."""
    return ReadMark.objects.filter(user=user).values("paper_id")


def read_paper_ids(user: AbstractBaseUser) -> frozenset[int]:
    """Ids of every paper the member has read, in one query: cards show their marker without a query each."""
    return frozenset(ReadMark.objects.filter(user=user).values_list("paper_id", flat=True))


def queue(user: AbstractBaseUser) -> list[QueueEntry]:
    """The member's reading queue, oldest first, papers hidden by a moderator left out."""
    entries = QueueEntry.objects.filter(user=user, paper__in=Paper.objects.visible())
    return list(entries.select_related("paper").order_by("added_at", "id"))


def recently_read(user: AbstractBaseUser, limit: int = RECENTLY_READ) -> list[ReadMark]:
    """The papers the member marked read, latest first."""
    marks = ReadMark.objects.filter(user=user, paper__in=Paper.objects.visible())
    return list(marks.select_related("paper").order_by("-read_at", "-id")[:limit])


def notes(user: AbstractBaseUser, words: str = "") -> list[Note]:
    """The member's notes, latest changed first; with `words`, only those whose body or paper title holds them.

    A plain case-insensitive containment of the whole text (no stemming, no ranking): a member's notes are few, and
    they search them for a phrase they remember writing.
    """
    found = Note.objects.filter(user=user, paper__in=Paper.objects.visible())
    words = words.strip()
    if words:
        found = found.filter(Q(body__icontains=words) | Q(paper__title__icontains=words))
    return list(found.select_related("paper").order_by("-updated_at", "-id")[:NOTES_SHOWN])
