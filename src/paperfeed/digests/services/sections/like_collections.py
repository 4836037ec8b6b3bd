"""Like your collections: recent papers like those of the collections a member chose for their digest (on each
collection's page), by the model "More like this collection" fits (paperfeed.recommend.services.like_collection),
taken in turn from each collection so that one large collection does not fill the section alone."""

from __future__ import annotations

from itertools import zip_longest

from paperfeed.community.services.interests import digest_collections
from paperfeed.digests.services.sections.base import Chosen, Reader, Section
from paperfeed.recommend.services.like_collection import collection_model, digest_picks
from paperfeed.recommend.services.ranking import HardFilters

LIKE_COLLECTIONS_SIZE = 5  # papers in the section at most, whatever the number of collections


class LikeCollections(Section):
    key = "like_collections"
    heading = "Like your collections"
    note = "Recent papers like the ones in the collections you chose for your digest."
    most = LIKE_COLLECTIONS_SIZE

    def choose(self, run, reader: Reader) -> list[Chosen]:
        subscription, window = reader.subscription, reader.window
        if subscription.user_id is None or reader.limit <= 0 or window.start is None:
            return []
        chosen = digest_collections(subscription.interests, subscription.user)
        if not chosen:
            return []
        filters = HardFilters.build([], reader.include, reader.exclude, source="digest")
        left_out = set(reader.taken) | reader.history.sent
        most = min(LIKE_COLLECTIONS_SIZE, reader.limit)
        picks = []
        for collection in chosen:
            # One model per collection and run: every subscriber who chose it shares it.
            current = run.shared((self.key, collection.pk), lambda c=collection: collection_model(c))
            picks.append(digest_picks(run.recommender, collection, current, left_out, window.start, most, filters))
        found: dict[int, tuple[str, ...]] = {}
        for turn in zip_longest(*picks):
            for pick in turn:
                if pick is not None and pick[0] not in found:
                    found[pick[0]] = (pick[1].text,)
        return [Chosen(pid, reasons) for pid, reasons in found.items()]
