"""{% digest_follow author_or_organization %}: on an author's or organization's page, follow it in the email digest.

Members with an active digest get a button that adds it (or takes it out); everyone else a link to the digest
page with it filled in."""

from __future__ import annotations

from django import template

from paperfeed.community.services import interests
from paperfeed.digests.services import subscriptions as subs

register = template.Library()


@register.inclusion_tag("digests/_follow.html", takes_context=True)
def digest_follow(context, target) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    subscription = subs.active_subscription(user) if user is not None else None
    return {
        "target": target,
        "kind": interests.follow_kind(target),
        "what": interests.new_papers_of(target),
        "signed_in": bool(user and user.is_authenticated),
        "subscribed": subscription is not None,
        "following": subscription is not None and interests.is_following(subscription.interests, target),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }
