"""Staff preview of the digest a subscriber would get now (/digest/preview?email=…): the headers and the plain-text
part in the page, the HTML part in a sandboxed frame served by /digest/preview/html?email=… under a CSP that allows
no script at all. Nothing is sent or recorded (services/sending.py's `preview`)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from paperfeed.community.services import interests
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import preferences as prefs
from paperfeed.digests.services import sending

# The HTML part may only style itself and show images; it runs nothing, loads nothing else, submits nothing, and
# may be framed by this site's preview page alone.
HTML_PART_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def staff_only(view):
    """Staff see the view; anyone else signed in gets the 404 page, and strangers the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise Http404("There is no such page")
        return view(request, *args, **kwargs)

    return wrapper


def _find(typed: str) -> tuple[Subscription | None, str | None, int]:
    """The subscription an address names, or what to tell the staff member and the status to answer with."""
    try:
        address = prefs.clean_address(typed)
    except interests.PreferenceError as error:
        return None, str(error), 400
    found = Subscription.objects.filter(email=address).first()
    if found is None:
        return None, f"No subscription for {address}.", 404
    return found, None, 200


@require_safe
@never_cache
@staff_only
def preview(request: HttpRequest) -> HttpResponse:
    typed = request.GET.get("email", "")
    context: dict = {"email": typed.strip()}
    if not typed.strip():
        return render(request, "digests/preview.html", context)
    subscription, problem, status = _find(typed)
    if subscription is None:
        return render(request, "digests/preview.html", {**context, "problem": problem}, status=status)
    shown = sending.preview(subscription)
    context |= {
        "subscription": subscription,
        "digest": shown.digest,
        "message": shown.message,
        "schedule": prefs.describe_schedule(subscription),
        "html_src": reverse("digest-preview-html") + "?" + urlencode({"email": subscription.email}),
    }
    if shown.message is not None:
        context["headers"] = [
            ("From", shown.message.from_email),
            ("To", ", ".join(shown.message.to)),
            ("Subject", shown.message.subject),
            *((name, shown.message.extra_headers[name]) for name in ("List-Unsubscribe", "List-Unsubscribe-Post")),
        ]
    return render(request, "digests/preview.html", context)


@require_safe
@never_cache
@xframe_options_sameorigin
@staff_only
def preview_html(request: HttpRequest) -> HttpResponse:
    subscription, problem, status = _find(request.GET.get("email", ""))
    if subscription is None:
        response = HttpResponse(problem, content_type="text/plain; charset=utf-8", status=status)
    else:
        message = sending.preview(subscription).message
        if message is None:
            body = "Nothing new: no email would be sent now."
            response = HttpResponse(body, content_type="text/plain; charset=utf-8")
        else:
            response = HttpResponse(message.alternatives[0][0], content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = HTML_PART_POLICY
    return response


urlpatterns = [
    path("digest/preview", preview, name="digest-preview"),
    path("digest/preview/html", preview_html, name="digest-preview-html"),
]
