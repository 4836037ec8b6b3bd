"""The form of a member's notification email choices."""

from __future__ import annotations

from django import forms

from paperfeed.notifications.models import Delivery, Topic


class EmailChoicesForm(forms.Form):
    """One choice per topic: at once, daily summary or never."""

    def __init__(self, *args, initial_choices: dict[Topic, Delivery] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for topic in Topic:
            self.fields[topic.value] = forms.ChoiceField(
                label=topic.label,
                choices=[(d.value, d.label.capitalize()) for d in Delivery],
                initial=(initial_choices or {}).get(topic),
                widget=forms.RadioSelect,
            )

    def choices(self) -> dict[Topic, Delivery]:
        return {topic: Delivery(self.cleaned_data[topic.value]) for topic in Topic}
