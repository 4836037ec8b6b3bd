"""`{% api_tokens_section %}`: the API tokens section of the account settings page."""

from __future__ import annotations

from django import template
from django.urls import reverse

from paperfeed.api.services import tokens

register = template.Library()


@register.inclusion_tag("api/_tokens_section.html", takes_context=True)
def api_tokens_section(context: template.Context) -> dict:
    """The signed-in user's tokens and the form for a new one; forms come back to the settings page."""
    request = context["request"]
    return {
        "tokens": tokens.tokens_of(request.user),
        "next": reverse("account_settings") + "#api-tokens",
        "csrf_token": context.get("csrf_token"),
        "name": "",
        "error": "",
    }
