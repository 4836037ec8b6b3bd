"""The webhook form of the chat delivery page: it reads and checks what was typed; services/chat_hooks.py acts."""

from __future__ import annotations

from django import forms

from paperfeed.community.services.interests import saved_searches
from paperfeed.core.webhooks.destinations import MAX_URL_CHARS, UrlRefused
from paperfeed.digests.models import Webhook
from paperfeed.digests.services import chat_hooks
from paperfeed.digests.services import preferences as prefs
from paperfeed.digests.services.chat_content import CONTENT_KINDS
from paperfeed.digests.views.forms import _checked


def _search_value(q: str, mode: str) -> str:
    return f"{mode}:{q}"


class WebhookForm(forms.Form):
    label = forms.CharField(
        label="Name",
        required=False,
        max_length=80,
        help_text="For you to tell your webhooks apart, e.g. #reading-group.",
    )
    url = forms.CharField(
        label="Webhook address",
        max_length=MAX_URL_CHARS,
        error_messages={
            "required": "Give the webhook's address, as the chat service shows it (https://…).",
            "max_length": f"A webhook address has at most {MAX_URL_CHARS} characters.",
        },
        help_text="Slack: Apps → Incoming Webhooks. Mattermost: Integrations → Incoming Webhooks. Discord: channel "
        "settings → Integrations → Webhooks. https:// only.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…", "spellcheck": "false"}),
    )
    kind = forms.ChoiceField(
        label="Kind",
        choices=Webhook.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the kind of receiver.", "invalid_choice": "Choose the kind of receiver."},
    )
    content = forms.ChoiceField(
        label="What it gets",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what the webhook gets.", "invalid_choice": "Choose what it gets."},
    )
    saved_search = forms.ChoiceField(
        label="Saved search",
        required=False,
        help_text="For “one of my saved searches”: its new matches on the daily lists since the last delivery.",
    )
    group = forms.ChoiceField(
        label="Reading group",
        required=False,
        help_text="For “a reading group's weekly reading and additions”: a group you own or edit.",
    )
    schedule = forms.ChoiceField(
        label="How often",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how often.", "invalid_choice": "Choose how often."},
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        coerce=int,
        choices=list(enumerate(prefs.WEEKDAYS)),
        help_text="For a weekly delivery.",
        error_messages={"invalid_choice": "Choose a day of the week.", "required": "Choose a day of the week."},
    )
    hour = forms.TypedChoiceField(
        label="Post after",
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        help_text="Your local time.",
        error_messages={"invalid_choice": "Choose an hour of the day.", "required": "Choose an hour of the day."},
    )
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        error_messages={"required": "Choose a time zone, e.g. Europe/Paris or UTC."},
        widget=forms.TextInput(attrs={"list": "digest-time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["content"].choices = [(kind.key, kind.label) for kind in CONTENT_KINDS.values()]
        interests = getattr(user, "interests", None) if user.is_authenticated else None
        searches = saved_searches(interests) if interests is not None else []
        self.fields["saved_search"].choices = [("", "(choose one)")] + [
            (_search_value(q, mode), f"{q} ({mode})") for q, mode in searches
        ]
        groups = chat_hooks.groups_to_post_for(user) if user.is_authenticated else []
        self.fields["group"].choices = [("", "(choose one)")] + [(str(g.pk), g.name) for g in groups]
        has_email = hasattr(user, "subscription")
        self.fields["schedule"].choices = [
            (value, label) for value, label in Webhook.Schedule.choices if value != Webhook.Schedule.EMAIL or has_email
        ]

    def clean_url(self) -> str:
        try:
            return chat_hooks.check_address(self.cleaned_data["url"])
        except UrlRefused as error:
            raise forms.ValidationError(str(error)) from None

    def clean_time_zone(self) -> str:
        return _checked(prefs.parse_time_zone, self.cleaned_data["time_zone"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("content") == "saved-search" and not data.get("saved_search"):
            if len(self.fields["saved_search"].choices) == 1:
                self.add_error("content", "You have no saved search yet: add one in your digest settings first.")
            else:
                self.add_error("saved_search", "Choose which saved search this webhook follows.")
        if data.get("content") == "group" and not data.get("group"):
            if len(self.fields["group"].choices) == 1:
                self.add_error(
                    "content", "You own or edit no reading group: a group's owners and editors add its webhooks."
                )
            else:
                self.add_error("group", "Choose which reading group this webhook posts for.")
        return data

    def fields_to_save(self) -> chat_hooks.WebhookFields:
        data = self.cleaned_data
        mode, q = "", ""
        if data["content"] == "saved-search":
            mode, _, q = data["saved_search"].partition(":")
        return chat_hooks.WebhookFields(
            label=" ".join(data["label"].split()),
            url=data["url"],
            kind=data["kind"],
            content=data["content"],
            search_q=q,
            search_mode=mode,
            schedule=data["schedule"],
            weekday=data["weekday"],
            time_zone=data["time_zone"],
            hour=data["hour"],
            group_id=int(data["group"]) if data["content"] == "group" else None,
        )

    @classmethod
    def for_webhook(cls, user, webhook: Webhook | None, data=None, group: str = "") -> WebhookForm:
        """The form for a new webhook (for the reading group whose id is `group`, when asked from its page) or for
        changing `webhook`."""
        if webhook is None:
            subscription = getattr(user, "subscription", None)
            initial = {
                "kind": Webhook.Kind.SLACK,
                "content": "digest",
                "schedule": Webhook.Schedule.EMAIL if subscription is not None else Webhook.Schedule.DAILY,
                "weekday": subscription.weekday if subscription else 0,
                "hour": subscription.hour if subscription else 7,
                "time_zone": subscription.time_zone if subscription else "UTC",
            }
            if group:
                initial.update(content="group", group=group, schedule=Webhook.Schedule.WEEKLY)
        else:
            initial = {
                name: getattr(webhook, name)
                for name in ("label", "url", "kind", "content", "schedule", "weekday", "hour", "time_zone")
            }
            if webhook.search_q:
                initial["saved_search"] = _search_value(webhook.search_q, webhook.search_mode)
            if webhook.group_id:
                initial["group"] = str(webhook.group_id)
        return cls(user, data, initial=initial)
