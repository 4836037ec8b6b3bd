"""Which notifications a member gets by email (/notifications/settings, also a section of the account settings),
and the one-click unsubscribe of each email (/notifications/unsubscribe/<token>), which needs no session."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from paperfeed.notifications.forms import EmailChoicesForm
from paperfeed.notifications.models import Delivery
from paperfeed.notifications.services import links, preferences
from paperfeed.web import safe_next

GET_POST = ["GET", "HEAD", "POST"]


@never_cache
@login_required
@require_http_methods(GET_POST)
def email_settings(request: HttpRequest) -> HttpResponse:
    current = preferences.choices_of(request.user)
    form = EmailChoicesForm(request.POST if request.method == "POST" else None, initial_choices=current)
    if request.method == "POST" and form.is_valid():
        preferences.save_choices(request.user, form.choices())
        messages.success(request, "Your notification emails are saved.")
        return redirect(safe_next(request, request.path))
    return render(request, "notifications/settings.html", {"form": form}, status=400 if form.errors else 200)


@csrf_exempt  # RFC 8058 one-click: mail clients POST without cookies or a CSRF token; the signed token protects it
@never_cache
@require_http_methods(GET_POST)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user, topics = links.read_unsubscribe_token(token)
    except links.LinkError as error:
        return render(request, "notifications/link_invalid.html", {"message": error.message}, status=400)
    context = {"member": user, "topics": [topic.label for topic in topics]}
    if request.method == "POST":
        context["changed"] = preferences.turn_off(user, topics)
        return render(request, "notifications/unsubscribed.html", context)
    current = preferences.choices_of(user)
    context["already"] = all(current[topic] == Delivery.NEVER for topic in topics)
    return render(request, "notifications/unsubscribe.html", context)


urlpatterns = [
    path("notifications/settings", email_settings, name="notification-settings"),
    path("notifications/unsubscribe/<str:token>", unsubscribe, name="notification-unsubscribe"),
]
