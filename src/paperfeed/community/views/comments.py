"""Comment pages: post, reply, edit and delete, as plain forms that answer with a redirect to the comment."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from paperfeed.community.models import Comment
from paperfeed.community.services import comments
from paperfeed.community.services.comments import CommentRefused
from paperfeed.core.markdown import MAX_CHARS
from paperfeed.core.sources.registry import parse_address


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the browser fetches the page with GET
    return response


def _paper_url(address: object, anchor: str = "comments") -> str:
    return f"{reverse('paper', args=[str(address)])}#{anchor}"


def _comment_url(comment: Comment) -> str:
    return _paper_url(comment.paper.address, f"comment-{comment.pk}")


def _form_page(request: HttpRequest, refusal: CommentRefused | None, **context) -> HttpResponse:
    """The comment form on a page of its own: to edit, or to fix what was refused without losing the text."""
    status = refusal.status if refusal else 200
    context |= {"error": refusal.message if refusal else "", "max_chars": MAX_CHARS}
    return render(request, "community/comments_edit.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def comment_create(request: HttpRequest, address: str) -> HttpResponse:
    parsed = parse_address(address)
    if parsed is None:
        raise Http404(
            f"{address[:64]} is not a paper id this site can read (an arXiv id such as 2503.11731, or source:id)"
        )
    if request.method != "POST":
        return _see_other(_paper_url(parsed))  # the form lives on the paper page
    if not request.user.is_authenticated:
        return redirect_to_login(_paper_url(parsed))
    paper = comments.visible_paper(parsed)
    if paper is None:
        raise Http404(f"{parsed.label} is not on this site, so it cannot be commented on.")
    body, parent = request.POST.get("body", ""), request.POST.get("parent") or None
    try:
        # A group's private discussion: only its members may post there; anyone else is told there is no such group.
        group = comments.discussion_group(request.user, request.POST.get("group", "").strip()[:100] or None)
    except CommentRefused as refusal:
        raise Http404(refusal.message) from None
    try:
        comment = comments.post_comment(request.user, paper, body, parent, group)
    except CommentRefused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        parent = None if refusal.field == "parent" else parent
        return _form_page(request, refusal, paper=paper, body=body, parent=parent, group=group)
    return _see_other(_comment_url(comment))


def _comment_or_404(request: HttpRequest, comment_id: int) -> Comment:
    try:
        return comments.comment_for_change(comment_id, request.user)
    except CommentRefused as refusal:
        raise Http404(refusal.message) from None


def _refused(request: HttpRequest, comment: Comment, verb: str) -> HttpResponse:
    paper = comment.paper
    context = {
        "message": comments.refusal(request.user, comment, verb),
        "back": reverse("paper", args=[paper.address]) + "#comments",
        "back_label": f"Back to the discussion of “{paper.title}”",
    }
    return render(request, "community/refused.html", context, status=403)


@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit(request: HttpRequest, comment_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    comment = _comment_or_404(request, comment_id)
    if not comments.may_edit(request.user, comment):
        return _refused(request, comment, "edit")
    if request.method != "POST":
        return _form_page(request, None, paper=comment.paper, comment=comment, body=comment.body)
    body = request.POST.get("body", "")
    try:
        comments.edit_comment(request.user, comment, body)
    except CommentRefused as refusal:
        return _form_page(request, refusal, paper=comment.paper, comment=comment, body=body)
    return _see_other(_comment_url(comment))


@require_http_methods(["GET", "HEAD", "POST"])
def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    comment = _comment_or_404(request, comment_id)
    if request.method != "POST":
        return _see_other(_comment_url(comment))  # deleting is a button under the comment
    if not comments.may_delete(request.user, comment):
        return _refused(request, comment, "delete")
    comments.delete_comment(request.user, comment)
    anchor = f"comment-{comment.parent_id}" if comment.parent_id else "comments"
    return _see_other(_paper_url(comment.paper.address, anchor))


urlpatterns = [
    path("papers/<path:address>/comments", comment_create, name="comment-create"),
    path("comments/<int:comment_id>/edit", comment_edit, name="comment-edit"),
    path("comments/<int:comment_id>/delete", comment_delete, name="comment-delete"),
]
