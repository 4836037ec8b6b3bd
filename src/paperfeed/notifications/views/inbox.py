"""The member's notifications: the plain page (/notifications, no JavaScript needed), the bell's count for htmx,
opening one (which marks it read) and marking them all read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from paperfeed.notifications.services import inbox
from paperfeed.web import page_number


@never_cache
@login_required
@require_safe
def notifications_page(request: HttpRequest) -> HttpResponse:
    page = inbox.page_of(request.user, page_number(request))
    context = {"page": page, "unread": inbox.unread_count(request.user)}
    return render(request, "notifications/list.html", context)


@never_cache
@require_safe
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's count, as the fragment htmx swaps in every minute. Nothing for a visitor who is not signed in
    (204: htmx leaves the page alone)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "notifications/_bell_count.html", {"unread": inbox.unread_count(request.user)})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """POST: mark the notification read and go where it leads. GET (a link followed by hand): the list."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("notifications"))
    opened = inbox.open_one(request.user, notification_id)
    if opened is None:
        raise Http404("You have no notification of that number.")
    return HttpResponseRedirect(opened.path, status=303)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    inbox.mark_all_read(request.user)
    return HttpResponseRedirect(reverse("notifications"), status=303)


urlpatterns = [
    path("notifications", notifications_page, name="notifications"),
    path("notifications/count", bell, name="notification-count"),
    path("notifications/read-all", read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/open", open_notification, name="notification-open"),
]
