"""Submitting a paper: /submit takes an arXiv id or link and puts the paper on today's list."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from paperfeed.community.services import submissions
from paperfeed.community.services.permissions import posting_problem


class SubmitForm(forms.Form):
    """One box: whatever the person pasted; the service works out which paper it names."""

    paper = forms.CharField(
        label="arXiv id or link",
        max_length=300,
        error_messages={"required": "Paste an arXiv id or link, like 2503.11731 or https://arxiv.org/abs/2503.11731."},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    """The submission form; a good submission goes to today's list and back there, a bad one is explained."""
    form = SubmitForm(request.POST if request.method == "POST" else None)
    status, duplicate = 200, None
    if form.is_bound and not form.is_valid():
        status = 400
    elif form.is_bound:
        try:
            done = submissions.submit_paper(request.user, form.cleaned_data["paper"])
        except submissions.SubmissionError as error:
            status = error.status
            if isinstance(error, submissions.AlreadySubmitted):
                duplicate = error  # shown with links instead of as plain text
            else:
                form.add_error("paper", str(error))
        else:
            paper = done.entry.paper
            fetched = " (fetched from arXiv just now)" if done.fetched else ""
            messages.success(request, f"“{paper.title}”{fetched} is on today's list, submitted by you.")
            return HttpResponseRedirect(f"{reverse('daily')}?date={done.entry.day.isoformat()}", status=303)
    context = {
        "form": form,
        "duplicate": duplicate,
        "problem": posting_problem(request.user),
        "left": submissions.submissions_left(request.user),
        "limit": submissions.DAILY_LIMIT,
        "today": timezone.localdate(),
    }
    return render(request, "community/submit.html", context, status=status)


urlpatterns = [
    path("submit", submit, name="submit"),
]
