"""Trending: the site's top trending papers at the time of the run, as many as the subscriber asked for."""

from __future__ import annotations

from collections.abc import Iterator

from paperfeed.digests.services.sections.base import Chosen, Reader, Section


class Trending(Section):
    key = "trending"
    heading = "Trending"

    def choose(self, run, reader: Reader) -> Iterator[Chosen]:
        """The top `top_trending` at the run's time; none when nobody voted lately (no newest-papers stand-in)."""
        for rank, pid in enumerate(run.trending_ids()[: reader.subscription.top_trending], 1):
            yield Chosen(pid, (f"trending #{rank}",))
