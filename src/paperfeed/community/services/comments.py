"""Discussions under papers: posting, replying (one level deep), editing, deleting, and the threads a page shows.

A comment is public, or belongs to a reading group's private discussion (`Comment.group`): such a comment is shown
to the group's members only and counted nowhere public. Who may see a comment is decided here, once: `visible_to`
for one comment, `visible_comments` as a queryset filter, `public_comments` for what everyone sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Expression, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from paperfeed.community.models import Comment, Group
from paperfeed.community.services import groups, throttle
from paperfeed.community.services.mentions import usernames_named
from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.markdown import MarkdownTooLong, render_markdown
from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Paper
from paperfeed.papers.services.cards import per_paper

# Enough for a lively discussion, too few to flood one: a throwaway account cannot post hundreds a minute.
COMMENTS_PER_USER = throttle.Limit("comment-user", 10, timedelta(minutes=10))


class CommentRefused(Exception):
    """A comment that cannot be posted or changed as asked; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field  # what was wrong: "body", "parent" (the comment replied to) or "user"


@dataclass(frozen=True)
class ShownComment:
    """A comment as a page shows it, with what the viewer may do to it."""

    comment: Comment
    can_edit: bool = False
    can_delete: bool = False

    @property
    def deleted(self) -> bool:
        return is_deleted(self.comment)

    @property
    def removed(self) -> bool:
        """Hidden by a moderator, yet kept as a placeholder because visible replies hang under it."""
        return self.comment.hidden


@dataclass(frozen=True)
class Thread:
    """A top-level comment and its replies, oldest first."""

    comment: ShownComment
    replies: list[ShownComment] = field(default_factory=list)


@dataclass(frozen=True)
class Discussion:
    """What a paper page shows of its comments, and why the viewer may not join in (None when they may)."""

    threads: list[Thread]
    count: int  # comments shown, placeholders left out: the figure on the paper's card
    posting_problem: str | None
    group: Group | None = None  # a group's private discussion; None: the public one


def public_comments() -> QuerySet[Comment]:
    """The comments everyone may see: not hidden by a moderator, and in no group's private discussion."""
    return Comment.objects.filter(hidden=False, group__isnull=True)


def visible_comments(viewer: AbstractBaseUser | AnonymousUser) -> QuerySet[Comment]:
    """The comments the viewer may see: the public ones, and those of the groups they are in (hidden ones never)."""
    if not viewer.is_authenticated:
        return public_comments()
    return Comment.objects.filter(Q(group__isnull=True) | Q(group__in=groups.member_group_ids(viewer)), hidden=False)


def visible_to(viewer: AbstractBaseUser | AnonymousUser, comment: Comment) -> bool:
    """Whether the viewer may see this comment: not hidden by a moderator, and public or in one of their groups.
    (Notifications about a comment go only to those it is visible to.)"""
    if comment.hidden:
        return False
    return comment.group_id is None or groups.is_member(viewer, comment.group_id)


def shown_comment_count() -> Expression:
    """The comments shown under a paper, as a card annotation: hidden ones, the placeholders of deleted ones
    (kept for their replies, with an empty body) and groups' private comments left out."""
    return Coalesce(per_paper(Comment, Count("pk"), hidden=False, body__gt="", group__isnull=True), 0)


def is_deleted(comment: Comment) -> bool:
    """A deleted comment kept as a placeholder so its replies stay: its body is emptied, never blank otherwise."""
    return comment.body == ""


def _clean_body(body: str) -> tuple[str, str]:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise CommentRefused("Write something first: the comment was empty.")
    try:
        return body, render_markdown(body, mentions=usernames_named)
    except MarkdownTooLong as error:
        raise CommentRefused(str(error)) from None


def visible_paper(address: PaperAddress) -> Paper | None:
    """The paper people may comment on: one that exists and is not hidden."""
    return Paper.objects.visible().named(address).first()


_PARENT_GONE = (
    "The comment you replied to is no longer part of this discussion. You can post yours as a comment of its own."
)


def _parent_for(paper: Paper, parent_id: str | None, group: Group | None) -> Comment | None:
    if parent_id in (None, ""):
        return None
    try:
        parent = Comment.objects.filter(pk=int(parent_id)).first()
    except (TypeError, ValueError, OverflowError):
        parent = None
    # A reply stays in its thread's discussion: a public reply to a group's comment (or the reverse) is refused.
    group_id = group.pk if group is not None else None
    if parent is None or parent.hidden or parent.paper_id != paper.id or parent.group_id != group_id:
        raise CommentRefused(_PARENT_GONE, field="parent")
    if parent.parent_id is not None:
        # Replies are one level deep: answering a reply joins the thread of its top-level comment.
        parent = Comment.objects.filter(pk=parent.parent_id, hidden=False).first()
        if parent is None:
            raise CommentRefused(_PARENT_GONE, field="parent")
    return parent


def discussion_group(user: AbstractBaseUser | AnonymousUser, slug: str | None) -> Group | None:
    """The group whose private discussion a comment form posts to (None: the public one); CommentRefused (404, as
    if there were no such group) when the user is not one of its members."""
    if not slug:
        return None
    found = groups.group_for_member(slug, user)
    if found is None:
        raise CommentRefused("There is no such group.", status=404, field="group")
    return found[0]


def post_comment(
    user: AbstractBaseUser, paper: Paper, body: str, parent_id: str | None = None, group: Group | None = None
) -> Comment:
    """Post a comment (or a reply to `parent_id`) on the paper, as the user, publicly or in the group's private
    discussion (members only); raises CommentRefused with the reason."""
    if group is not None and not groups.is_member(user, group.pk):
        raise CommentRefused("There is no such group.", status=404, field="group")
    problem = posting_problem(user)
    if problem:
        raise CommentRefused(problem, status=403, field="user")
    body, html = _clean_body(body)
    parent = _parent_for(paper, parent_id, group)
    key = str(user.pk)
    if not user.is_staff and not COMMENTS_PER_USER.allowed(key):
        wait, window = throttle.minutes(COMMENTS_PER_USER.wait(key)), throttle.minutes(COMMENTS_PER_USER.window)
        raise CommentRefused(
            f"You have posted {COMMENTS_PER_USER.limit} comments in the last {window} minutes. "
            f"Wait {wait} minute{'s' if wait > 1 else ''} and post this one again.",
            status=429,
            field="user",
        )
    with transaction.atomic():
        COMMENTS_PER_USER.hit(key)
        return Comment.objects.create(paper=paper, author=user, parent=parent, body=body, body_html=html, group=group)


def may_edit(user: AbstractBaseUser | AnonymousUser, comment: Comment) -> bool:
    """Authors in good standing edit their own comments; staff may edit any."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return comment.author_id == user.pk and posting_problem(user) is None


def may_delete(user: AbstractBaseUser | AnonymousUser, comment: Comment) -> bool:
    """Authors may always take back what they wrote (even when banned); staff may delete any comment."""
    return user.is_authenticated and (user.is_staff or comment.author_id == user.pk)


def comment_for_change(comment_id: int, viewer: AbstractBaseUser | AnonymousUser) -> Comment:
    """The comment someone wants to edit or delete; one that is hidden or already deleted cannot be changed, and one
    the viewer may not see (another group's) is not found."""
    comment = Comment.objects.select_related("paper", "author", "group").filter(pk=comment_id).first()
    if comment is None or comment.paper.hidden or is_deleted(comment) or not visible_to(viewer, comment):
        raise CommentRefused("This comment does not exist or was deleted.", status=404)
    return comment


def edit_comment(user: AbstractBaseUser, comment: Comment, body: str) -> Comment:
    """Replace the comment's text; it is marked as edited when the text changed."""
    if not may_edit(user, comment):
        raise CommentRefused(refusal(user, comment, "edit"), status=403)
    body, html = _clean_body(body)
    if body != comment.body:
        comment.body, comment.body_html, comment.edited_at = body, html, timezone.now()
        comment.save(update_fields=["body", "body_html", "edited_at"])
    return comment


def delete_comment(user: AbstractBaseUser, comment: Comment) -> None:
    """Delete the comment; one with replies stays as a "deleted" placeholder so the replies keep their place."""
    if not may_delete(user, comment):
        raise CommentRefused(refusal(user, comment, "delete"), status=403)
    with transaction.atomic():
        if comment.replies.exists():
            comment.body = comment.body_html = ""
            comment.save(update_fields=["body", "body_html"])
            return
        parent = comment.parent
        comment.delete()
        # A placeholder left only for replies goes once its last reply goes.
        if parent is not None and is_deleted(parent) and not parent.replies.exists():
            parent.delete()


def refusal(user: AbstractBaseUser, comment: Comment, verb: str) -> str:
    """Why the user may not edit or delete (the verb) this comment, in words for them."""
    if comment.author_id != user.pk:
        return f"You can only {verb} your own comments."
    return posting_problem(user) or f"You cannot {verb} this comment."


def discussion(paper: Paper, viewer: AbstractBaseUser | AnonymousUser, group: Group | None = None) -> Discussion:
    """The paper's public comments as its page shows them (or, with `group`, that group's private discussion, which
    the caller has checked the viewer may see), oldest thread first, leaving out what moderators hid."""
    problem = posting_problem(viewer)
    comments = list(
        Comment.objects.filter(paper=paper, group=group).select_related("author").order_by("created_at", "id")
    )
    visible_replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is not None and not comment.hidden:
            visible_replies.setdefault(comment.parent_id, []).append(comment)

    def shown(comment: Comment) -> ShownComment:
        own = viewer.is_authenticated and (viewer.is_staff or comment.author_id == viewer.pk)
        changeable = own and not comment.hidden and not is_deleted(comment)
        return ShownComment(
            comment, can_edit=changeable and (viewer.is_staff or problem is None), can_delete=changeable
        )

    threads, count = [], 0
    for comment in comments:
        if comment.parent_id is not None:
            continue
        replies = visible_replies.get(comment.id, [])
        placeholder = comment.hidden or is_deleted(comment)
        if placeholder and not replies:
            continue
        threads.append(Thread(shown(comment), [shown(reply) for reply in replies]))
        count += (not placeholder) + len(replies)
    return Discussion(threads, count, problem, group)


def group_discussions(paper: Paper, viewer: AbstractBaseUser | AnonymousUser) -> list[Discussion]:
    """The private discussions of the paper in each group the viewer is in, by group name: "Discussion in <group>"
    blocks on the paper page, shown to the group's members alone."""
    return [discussion(paper, viewer, m.group) for m in groups.groups_of(viewer)] if viewer.is_authenticated else []
