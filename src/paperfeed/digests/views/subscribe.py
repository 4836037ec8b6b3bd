"""The digest pages: subscribe (/digest/subscribe), confirm, manage preferences and unsubscribe by signed link, and a
signed-in user's own digest settings (/digest/settings). Thin: forms read the input, services/subscriptions.py acts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from paperfeed.community.services import interests
from paperfeed.community.services.accounts import client_ip
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import links, notices
from paperfeed.digests.services import preferences as prefs
from paperfeed.digests.services import subscriptions as subs
from paperfeed.digests.views.forms import PreferencesForm, SubscribeForm, default_preferences_form
from paperfeed.papers.models import Organization
from paperfeed.web import safe_next

GET_POST = ["GET", "HEAD", "POST"]


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Render a digest page; every page with the preferences form gets the time-zone suggestions."""
    if "form" in context and isinstance(context["form"], PreferencesForm):
        context["time_zones"] = prefs.time_zone_names()
    return render(request, f"digests/{template}", context, status=status)


def _link_invalid(request: HttpRequest, error: links.LinkError) -> HttpResponse:
    """The 400 page of a forged, damaged or expired link, offering to subscribe again."""
    return _page(request, "link_invalid.html", {"message": error.message, "subscribe_form": SubscribeForm()}, 400)


def _path(purpose: str, subscription: Subscription) -> str:
    return reverse(f"digest-{purpose}", args=[links.make_token(subscription, purpose)])


@require_http_methods(GET_POST)
def subscribe(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method != "POST":
        if user.is_authenticated and subs.email_verified(user):
            return redirect("digest-settings")
        # The footer's form (a GET for visitors who are not signed in) brings the address typed there.
        initial = {"email": user.email if user.is_authenticated else request.GET.get("email", "")[:254]}
        form = default_preferences_form(add=_asked_to_follow(request))
        return _page(request, "subscribe.html", {"subscribe_form": SubscribeForm(initial=initial), "form": form})
    subscribe_form = SubscribeForm(request.POST)
    # The footer's form has only the address; the full page also sends its preferences.
    with_preferences = request.POST.get("with_preferences") == "1"
    form = default_preferences_form(request.POST if with_preferences else None)
    if not (subscribe_form.is_valid() & (form.is_valid() or not with_preferences)):
        return _page(request, "subscribe.html", {"subscribe_form": subscribe_form, "form": form}, status=400)
    address = subscribe_form.cleaned_data["email"]
    outcome = subs.subscribe(address, client_ip(request), user, form.preferences() if with_preferences else None)
    if outcome is subs.Outcome.SUBSCRIBED:
        schedule = prefs.describe_schedule(user.subscription)
        messages.success(request, f"You are subscribed: the digest comes to {address} {schedule}.")
        return redirect("digest-settings")
    if outcome is subs.Outcome.ALREADY_SUBSCRIBED:
        messages.info(request, f"{address} already gets the digest. Here are its preferences.")
        return redirect("digest-settings")
    context = {"email": address, "days": notices.confirm_days(), "per_hour": subs.EMAILS_PER_ADDRESS.limit}
    return _page(request, "subscribe_sent.html", context)


@never_cache
@require_http_methods(GET_POST)
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # Mail scanners open links on their own: only the button's POST confirms.
    try:
        subscription = links.read_token(token, "confirm")
    except links.LinkError as error:
        return _link_invalid(request, error)
    if request.method == "POST":
        if subs.confirm(subscription):
            messages.success(
                request,
                f"Thank you: {subscription.email} is confirmed. The digest comes "
                f"{prefs.describe_schedule(subscription)}. Choose below what it brings.",
            )
        else:
            messages.info(request, f"{subscription.email} was already confirmed: nothing has changed.")
        return redirect(_path("manage", subscription))
    context = {"subscription": subscription, "active": subscription.status == Subscription.Status.ACTIVE}
    if context["active"]:
        context["manage_path"] = _path("manage", subscription)
    return _page(request, "confirm.html", context)


@never_cache
@require_http_methods(GET_POST)
def manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscription = links.read_token(token, "manage")
    except links.LinkError as error:
        return _link_invalid(request, error)
    if request.method == "POST" and "resubscribe" in request.POST:
        # The link came in a mail to this address: following it proves the address, as confirming does.
        subs.confirm(subscription)
        messages.success(request, f"Welcome back: the digest comes {prefs.describe_schedule(subscription)}.")
        return redirect(request.path)
    form = PreferencesForm.for_subscription(subscription, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        prefs.save_preferences(subscription, form.preferences())
        messages.success(request, _saved_message(subscription))
        return redirect(request.path)
    context = {
        "subscription": subscription,
        "form": form,
        "schedule": prefs.describe_schedule(subscription),
        "unsubscribe_path": _path("unsubscribe", subscription),
    }
    return _page(request, "manage.html", context, status=400 if form.errors else 200)


def _saved_message(subscription: Subscription) -> str:
    if subscription.status == Subscription.Status.ACTIVE:
        return f"Your preferences are saved. The digest comes {prefs.describe_schedule(subscription)}."
    return "Your preferences are saved. No digest is sent to this address until you subscribe again."


@csrf_exempt  # RFC 8058 one-click: mail clients POST without cookies or a CSRF token; the signed token protects it
@never_cache
@require_http_methods(GET_POST)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscription = links.read_token(token, "unsubscribe")
    except links.LinkError as error:
        return _link_invalid(request, error)
    context = {"subscription": subscription, "manage_path": _path("manage", subscription)}
    if request.method == "POST":
        context["changed"] = subs.unsubscribe(subscription)
        return _page(request, "unsubscribed.html", context)
    context["already"] = subscription.status == Subscription.Status.UNSUBSCRIBED
    return _page(request, "unsubscribe.html", context)


@login_required
@never_cache
@require_http_methods(GET_POST)
def account_digest(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not subs.email_verified(user):
        return _page(request, "settings_unverified.html", {})
    subscription = subs.account_subscription(user)
    posted = request.method == "POST"
    form = PreferencesForm.for_subscription(
        subscription, request.POST if posted else None, add=None if posted else _asked_to_follow(request)
    )
    if request.method == "POST" and form.is_valid():
        if subscription.pk is not None and subscription.status == Subscription.Status.ACTIVE:
            prefs.save_preferences(subscription, form.preferences())
            messages.success(request, _saved_message(subscription))
        else:
            subs.start_for_account(subscription, form.preferences())
            schedule = prefs.describe_schedule(subscription)
            messages.success(request, f"You are subscribed: the digest comes to {subscription.email} {schedule}.")
        return redirect("digest-settings")
    active = subscription.pk is not None and subscription.status == Subscription.Status.ACTIVE
    context = {
        "subscription": subscription,
        "form": form,
        "active": active,
        "schedule": prefs.describe_schedule(subscription),
        "unsubscribe_path": _path("unsubscribe", subscription) if active else None,
        "digest_collections": interests.digest_collections(getattr(user, "interests", None), user),
    }
    return _page(request, "settings.html", context, status=400 if form.errors else 200)


def _asked_to_follow(request: HttpRequest):
    """The author or organization a link from its page asks to add to the form (?author=ID or ?organization=ID)."""
    for kind in ("author", "organization"):
        if kind in request.GET:
            return interests.follow_target(kind, request.GET[kind])
    return None


@login_required
@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    """Follow (or stop following) an author or organization in the member's digest, from its page.

    Without an active digest, the member is taken to the digest settings with it filled in, to subscribe there."""
    kind = request.POST.get("kind", "")
    target = interests.follow_target(kind, request.POST.get("id"))
    if target is None:
        raise Http404("There is no such author or organization.")
    back = safe_next(request, _page_of(target))
    subscription = subs.active_subscription(request.user)
    if subscription is None or not subs.email_verified(request.user):
        return redirect(f"{reverse('digest-settings')}?{kind}={target.pk}")
    if request.POST.get("action") == "unfollow":
        interests.unfollow(subscription.interests, target)
        messages.success(request, f"New papers {interests.new_papers_of(target)} are no longer in your digest.")
        return redirect(back)
    try:
        interests.follow(subscription.interests, target)
    except interests.PreferenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"New papers {interests.new_papers_of(target)} will be in your digest.")
    return redirect(back)


def _page_of(target) -> str:
    if isinstance(target, Organization):
        return reverse("organization", args=[target.slug])
    return reverse("author", args=[target.pk])


urlpatterns = [
    path("digest/subscribe", subscribe, name="digest-subscribe"),
    path("digest/confirm/<str:token>", confirm, name="digest-confirm"),
    path("digest/manage/<str:token>", manage, name="digest-manage"),
    path("digest/unsubscribe/<str:token>", unsubscribe, name="digest-unsubscribe"),
    path("digest/settings", account_digest, name="digest-settings"),
    path("digest/follow", follow, name="digest-follow"),
]
