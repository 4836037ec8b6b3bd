"""A member's own reading: mark a paper read, queue it, keep a private note on it, and the /reading page.

The forms post and come back with a redirect (no JavaScript), or, sent by htmx, are answered with the paper page's
reading panel itself. There is no user field anywhere: every change is the signed-in member's own.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from paperfeed.community.services import reading
from paperfeed.community.services.reading import ReadingRefused
from paperfeed.core.markdown import MAX_CHARS
from paperfeed.core.sources.registry import parse_address
from paperfeed.papers.models import Paper
from paperfeed.web import is_htmx, safe_next, sign_in_first

SWITCH = {"1": True, "0": False}


def _paper(address: str) -> Paper:
    parsed = parse_address(address)
    if parsed is None:
        raise Http404(f"{address[:64]} is not a paper id this site can read")
    try:
        return reading.reading_paper(parsed)
    except ReadingRefused as refusal:
        raise Http404(refusal.message) from None


def _switch(request: HttpRequest, name: str, meaning: str) -> bool:
    wanted = request.POST.get(name, "")
    if wanted not in SWITCH:
        raise BadRequest(f"{name}={wanted[:20]!r} is not understood: send 1 to {meaning} or 0 to undo it")
    return SWITCH[wanted]


def _panel(request: HttpRequest, paper: Paper, status: int = 200, **extra) -> HttpResponse:
    context = {"paper": paper, "reading": reading.state(request.user, paper), "note_max_chars": MAX_CHARS} | extra
    return render(request, "community/_reading_panel.html", context, status=status)


def _answer(request: HttpRequest, paper: Paper, back: str) -> HttpResponse:
    if is_htmx(request):
        return _panel(request, paper)
    return HttpResponseRedirect(back, status=303)


def _toggle(request: HttpRequest, address: str, name: str, meaning: str, apply) -> HttpResponse:
    paper = _paper(address)
    back = safe_next(request, reverse("paper", args=[paper.address]) + "#reading")
    if not request.user.is_authenticated:
        return sign_in_first(request, back)
    apply(request.user, paper, _switch(request, name, meaning))
    return _answer(request, paper, back)


@require_POST
def mark_read(request: HttpRequest, address: str) -> HttpResponse:
    """read=1 marks the paper read (and takes it off the queue), read=0 unread."""
    return _toggle(request, address, "read", "mark it read", reading.set_read)


@require_POST
def queue(request: HttpRequest, address: str) -> HttpResponse:
    """queue=1 adds the paper to the end of the reading queue, queue=0 takes it off."""
    return _toggle(request, address, "queue", "add it to your reading queue", reading.set_queued)


@require_POST
def note(request: HttpRequest, address: str) -> HttpResponse:
    """Save the note in `body`, or delete it when the form says delete=1; a refused note comes back with its text."""
    paper = _paper(address)
    back = reverse("paper", args=[paper.address]) + "#note"
    if not request.user.is_authenticated:
        return sign_in_first(request, back)
    if request.POST.get("delete") == "1":
        reading.delete_note(request.user, paper)
        return _answer(request, paper, back)
    body = request.POST.get("body", "")
    try:
        reading.save_note(request.user, paper, body)
    except ReadingRefused as refusal:
        if is_htmx(request):
            return _panel(request, paper, status=refusal.status, note_error=refusal.message, note_text=body)
        context = {"paper": paper, "error": refusal.message, "note_text": body, "note_max_chars": MAX_CHARS}
        return render(request, "community/note_edit.html", context, status=refusal.status)
    return _answer(request, paper, back)


@never_cache
@login_required
@require_safe
def reading_page(request: HttpRequest) -> HttpResponse:
    """The member's queue (oldest first), the papers they read lately, and their notes, searchable."""
    words = request.GET.get("q", "")[:200]
    context = {
        "queue": reading.queue(request.user),
        "recently_read": reading.recently_read(request.user),
        "notes": reading.notes(request.user, words),
        "q": words.strip(),
    }
    return render(request, "community/reading.html", context)


urlpatterns = [
    path("papers/<path:address>/read", mark_read, name="paper-read"),
    path("papers/<path:address>/queue", queue, name="paper-queue"),
    path("papers/<path:address>/note", note, name="paper-note"),
    path("reading", reading_page, name="reading"),
]
