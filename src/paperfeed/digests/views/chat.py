"""The chat delivery pages (/digest/chat): a member's webhooks, adding, changing, testing, resuming and deleting
them. Thin: WebhookForm reads the input, services/chat_hooks.py acts; every webhook is found through
`chat_hooks.webhooks_of`, so another member's is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from paperfeed.digests.models import Webhook
from paperfeed.digests.services import chat_hooks
from paperfeed.digests.services import preferences as prefs
from paperfeed.digests.services.chat import schedule_of
from paperfeed.digests.services.chat_content import describe
from paperfeed.digests.views.chat_forms import WebhookForm

GET_POST = ["GET", "HEAD", "POST"]


def _mine(request: HttpRequest, pk: int) -> Webhook:
    webhook = chat_hooks.webhooks_of(request.user).filter(pk=pk).first()
    if webhook is None:
        raise Http404("You have no such webhook.")
    return webhook


def _when(webhook: Webhook) -> str:
    frequency, weekday, time_zone, hour = schedule_of(webhook)
    day = f"on {prefs.WEEKDAYS[min(max(weekday, 0), 6)]}s" if frequency == "weekly" else "every day"
    same = " (as your email digest)" if webhook.schedule == Webhook.Schedule.EMAIL else ""
    return f"{day} after {hour:02d}:00 {time_zone}{same}"


def _rows(request: HttpRequest) -> list[dict]:
    return [
        {"webhook": webhook, "gets": describe(webhook), "when": _when(webhook)}
        for webhook in chat_hooks.webhooks_of(request.user)
    ]


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context["time_zones"] = prefs.time_zone_names()
    return render(request, f"digests/{template}", context, status=status)


@login_required
@never_cache
@require_http_methods(GET_POST)
def chat(request: HttpRequest) -> HttpResponse:
    """The member's webhooks, and the form to add one."""
    posted = request.method == "POST"
    form = WebhookForm.for_webhook(request.user, None, request.POST if posted else None, request.GET.get("group", ""))
    if posted and form.is_valid():
        try:
            webhook = chat_hooks.add(request.user, form.fields_to_save())
        except chat_hooks.WebhookError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Webhook added: it gets {describe(webhook)} {_when(webhook)}.")
            return redirect("chat-webhook", pk=webhook.pk)
    return _page(request, "chat.html", {"rows": _rows(request), "form": form}, status=400 if form.errors else 200)


@login_required
@never_cache
@require_http_methods(GET_POST)
def webhook_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One webhook: its state, the receiver's last answers, its signing secret (JSON), and its form."""
    webhook = _mine(request, pk)
    posted = request.method == "POST"
    form = WebhookForm.for_webhook(request.user, webhook, request.POST if posted else None)
    if posted and form.is_valid():
        resumed = chat_hooks.update(webhook, form.fields_to_save())
        messages.success(request, "Saved." + (" The webhook is active again." if resumed else ""))
        return redirect("chat-webhook", pk=webhook.pk)
    context = {
        "webhook": webhook,
        "gets": describe(webhook),
        "when": _when(webhook),
        "form": form,
        "deliveries": webhook.deliveries.order_by("-claimed_at")[:10],
    }
    return _page(request, "chat_webhook.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def test(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _mine(request, pk)
    answer = chat_hooks.send_test(webhook)
    if answer.sent:
        messages.success(request, f"The test message was delivered: {answer.detail}.")
    else:
        messages.error(request, f"The test message was not delivered: {answer.detail}.")
    return redirect("chat-webhook", pk=webhook.pk)


@login_required
@require_POST
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _mine(request, pk)
    chat_hooks.resume(webhook)
    messages.success(request, "The webhook is active again: the next delivery goes out when it is due.")
    return redirect("chat-webhook", pk=webhook.pk)


@login_required
@require_POST
def new_secret(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _mine(request, pk)
    chat_hooks.new_secret(webhook)
    messages.success(request, "A new signing secret is in place: update your receiver, the old one no longer works.")
    return redirect("chat-webhook", pk=webhook.pk)


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _mine(request, pk)
    chat_hooks.delete(webhook)
    messages.success(request, "The webhook is deleted: nothing more is posted to it.")
    return redirect("chat")


urlpatterns = [
    path("digest/chat", chat, name="chat"),
    path("digest/chat/<int:pk>", webhook_page, name="chat-webhook"),
    path("digest/chat/<int:pk>/test", test, name="chat-webhook-test"),
    path("digest/chat/<int:pk>/resume", resume, name="chat-webhook-resume"),
    path("digest/chat/<int:pk>/secret", new_secret, name="chat-webhook-secret"),
    path("digest/chat/<int:pk>/delete", delete, name="chat-webhook-delete"),
]
