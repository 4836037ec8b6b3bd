"""`{% notification_bell %}` (the header's bell) and `{% notification_email_section %}` (the account settings'
section on notification emails)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from paperfeed.notifications.forms import EmailChoicesForm
from paperfeed.notifications.services import inbox, preferences

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict:
    """The signed-in member's bell: one COUNT query (the template asks only for members)."""
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    return {
        "unread": inbox.unread_count(request.user),
        "current": match is not None and match.url_name == "notifications",
    }


@register.inclusion_tag("notifications/_email_section.html", takes_context=True)
def notification_email_section(context: template.Context) -> dict:
    request = context["request"]
    return {
        "form": EmailChoicesForm(initial_choices=preferences.choices_of(request.user)),
        "next": reverse("account_settings") + "#notifications",
        "csrf_token": context.get("csrf_token"),
    }
