"""The forms of the digest pages: they read and check what was typed; services/subscriptions.py acts on it."""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from paperfeed.community.services import interests
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import preferences as prefs


def _checked(parse: Callable[[str], object], value: str) -> object:
    """What `parse` makes of the value, its PreferenceError turned into the field's error."""
    try:
        return parse(value)
    except interests.PreferenceError as error:
        raise forms.ValidationError(str(error)) from None


def _number(low: int, high: int, what: str) -> dict[str, str]:
    message = f"Choose {what} from {low} to {high}."
    return {"invalid": message, "min_value": message, "max_value": message, "required": message}


def _list_box(rows: int, placeholder: str) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "placeholder": placeholder, "spellcheck": "false"})


class SubscribeForm(forms.Form):
    """Just the address: the footer's form, and the top of the subscribe page."""

    email = forms.CharField(
        label="Email",
        max_length=254,
        strip=False,  # line breaks around the address are refused, not quietly trimmed
        error_messages={"required": "Enter your email address."},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.org"}),
    )

    def clean_email(self) -> str:
        return _checked(prefs.clean_address, self.cleaned_data["email"])


class PreferencesForm(forms.Form):
    """What the digest brings and when; every field is checked by services/subscriptions.py's parse functions."""

    frequency = forms.ChoiceField(
        label="How often",
        choices=Subscription.Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose daily or weekly.", "invalid_choice": "Choose daily or weekly."},
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        coerce=int,
        choices=list(enumerate(prefs.WEEKDAYS)),
        help_text="For a weekly digest.",
        error_messages={"invalid_choice": "Choose a day of the week.", "required": "Choose a day of the week."},
    )
    hour = forms.TypedChoiceField(
        label="Send after",
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        help_text="Your local time: the digest goes out once this hour has come.",
        error_messages={"invalid_choice": "Choose an hour of the day.", "required": "Choose an hour of the day."},
    )
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="A name such as Europe/Paris, America/New_York or Asia/Tokyo; UTC if you prefer.",
        error_messages={"required": "Choose a time zone, e.g. Europe/Paris or UTC."},
        widget=forms.TextInput(attrs={"list": "digest-time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )
    top_trending = forms.IntegerField(
        label="Trending papers",
        min_value=0,
        max_value=prefs.MAX_TOP_TRENDING,
        help_text="How many of the site's trending papers to include; 0 for none.",
        error_messages=_number(0, prefs.MAX_TOP_TRENDING, "a number of trending papers"),
    )
    categories = forms.CharField(
        label="arXiv categories",
        required=False,
        max_length=1000,
        help_text="New papers in these categories, separated by spaces or commas, e.g. cs.CL cs.LG hep-th.",
        widget=forms.TextInput(attrs={"placeholder": "cs.CL cs.LG", "spellcheck": "false"}),
    )
    saved_searches = forms.CharField(
        label="Saved searches",
        required=False,
        max_length=5000,
        help_text=(
            "New papers matching these searches, one per line. Start a line with “keyword:” for exact words or "
            "“semantic:” for papers about the same thing; otherwise both are used."
        ),
        widget=_list_box(3, "diffusion models\nsemantic: protein structure prediction"),
    )
    authors = forms.CharField(
        label="Authors you follow",
        required=False,
        max_length=20000,
        help_text="New papers by these authors, one name per line, spelled as on the paper pages.",
        widget=_list_box(3, "Ada Lovelace"),
    )
    organizations = forms.CharField(
        label="Organizations you follow",
        required=False,
        max_length=10000,
        help_text="New papers from these labs or companies, one per line, by name.",
        widget=_list_box(2, "DeepMind"),
    )
    include_keywords = forms.CharField(
        label="Only papers mentioning",
        required=False,
        max_length=5000,
        help_text="If you list words or phrases here, a paper must mention one of them in its title or abstract.",
        widget=_list_box(2, "transformer, attention"),
    )
    exclude_keywords = forms.CharField(
        label="Never papers mentioning",
        required=False,
        max_length=5000,
        help_text="Papers mentioning any of these words or phrases are left out. One per line or separated by commas.",
        widget=_list_box(2, "survey"),
    )
    max_papers = forms.IntegerField(
        label="Papers per digest, at most",
        min_value=1,
        max_value=prefs.MAX_PAPERS,
        help_text="When more papers qualify, the longer of the two sections (trending, new) is cut first.",
        error_messages=_number(1, prefs.MAX_PAPERS, "a number of papers"),
    )

    def clean_time_zone(self) -> str:
        return _checked(prefs.parse_time_zone, self.cleaned_data["time_zone"])

    def clean_categories(self) -> list[str]:
        return _checked(interests.parse_categories, self.cleaned_data["categories"])

    def clean_saved_searches(self) -> list[dict[str, str]]:
        return _checked(interests.parse_saved_searches, self.cleaned_data["saved_searches"])

    def clean_authors(self) -> list:
        return _checked(interests.parse_authors, self.cleaned_data["authors"])

    def clean_organizations(self) -> list:
        return _checked(interests.parse_organizations, self.cleaned_data["organizations"])

    def clean_include_keywords(self) -> list[str]:
        return _checked(interests.parse_keywords, self.cleaned_data["include_keywords"])

    def clean_exclude_keywords(self) -> list[str]:
        return _checked(interests.parse_keywords, self.cleaned_data["exclude_keywords"])

    def preferences(self) -> prefs.Preferences:
        """The checked preferences (call after is_valid())."""
        return prefs.Preferences(**{name: self.cleaned_data[name] for name in self.fields})

    @classmethod
    def for_subscription(cls, subscription: Subscription, data: object = None, add=None) -> PreferencesForm:
        """The form filled in with the subscription's preferences (or bound to `data` if posted); `add`: an author
        or organization to add to the follows shown (a link from its page), saved when the form is."""
        initial = prefs.preferences_as_text(prefs.preferences_of(subscription))
        return cls(data, initial=interests.with_follow_added(initial, add))


def default_preferences_form(data: object = None, add=None) -> PreferencesForm:
    """The form with the defaults a new subscription gets (and `add` followed, as for_subscription)."""
    return PreferencesForm(
        data, initial=interests.with_follow_added(prefs.preferences_as_text(prefs.Preferences()), add)
    )
