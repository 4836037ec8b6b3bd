"""For you: what the subscriber's own model (paperfeed.recommend) picks among the papers of the digest's list
days, for subscribers whose account has a trained model."""

from __future__ import annotations

from paperfeed.digests.services.sections.base import Chosen, Reader, Section
from paperfeed.recommend.services.ranking import HardFilters

FOR_YOU_SIZE = 5  # papers in the For you section at most


class ForYou(Section):
    key = "for_you"
    heading = "For you"
    note = "Picked for you from what you upvoted, saved and imported on the site."
    most = FOR_YOU_SIZE
    kept_whole = True  # at most FOR_YOU_SIZE: its place in the maximum is kept and the other sections make room

    def choose(self, run, reader: Reader) -> list[Chosen]:
        """The recommended papers with the recommender's reason, under the same keyword filters; none when the
        subscription has no account or the account no trained model."""
        subscription, window = reader.subscription, reader.window
        if subscription.user_id is None or reader.limit <= 0 or window.start is None:
            return []
        filters = HardFilters.build([], reader.include, reader.exclude, source="digest")
        found = run.recommender.recommend(
            subscription.user_id,
            set(reader.taken) | reader.history.sent,
            window.start,
            min(FOR_YOU_SIZE, reader.limit),
            filters,
        )
        return [Chosen(pid, (reason.text,)) for pid, reason in found]
