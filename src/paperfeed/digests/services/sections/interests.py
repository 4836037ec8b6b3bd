"""New on the lists: the papers of the digest's list days that match the subscriber's interests — categories,
saved searches, followed authors and organizations — most upvoted, then newest, first."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from paperfeed.community.services.interests import saved_searches
from paperfeed.digests.services.sections.base import Chosen, Reader, Section

MAX_LABEL_CHARS = 60


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


@dataclass(frozen=True)
class _Interests:
    categories: list[str]
    searches: list[tuple[str, frozenset[int]]]  # (query, the window's papers it finds)
    matched: set[int]


class Interests(Section):
    key = "interests"
    heading = "New on the lists"

    def title(self, weekly: bool) -> str:
        return "New on the lists this week" if weekly else self.heading

    def _interests(self, reader: Reader) -> _Interests:
        if self.key not in reader.memo:
            papers, followed = reader.papers, reader.followed
            categories = [str(c) for c in reader.subscription.interests.categories or ()]
            searches = [(q, papers.search(q, mode)) for q, mode in saved_searches(reader.subscription.interests)]
            matched: set[int] = set()
            for category in categories:
                matched |= papers.categories.get(category, set())
            for _, found in searches:
                matched |= found
            if followed.authors:
                matched |= papers.by_authors(followed.authors)
            for oid in followed.organizations:
                matched |= papers.organizations.get(oid, set())
            reader.memo[self.key] = _Interests(categories, searches, matched)
        return reader.memo[self.key]

    def choose(self, run, reader: Reader) -> Iterator[Chosen]:
        """The matching papers, best first, sorted only as far as they are read."""
        matched = self._interests(reader).matched - reader.history.sent
        matched.difference_update(reader.taken)
        heap = [(reader.papers.rank[pid], pid) for pid in matched]
        heapq.heapify(heap)
        while heap:
            _, pid = heapq.heappop(heap)
            yield Chosen(pid, self.reasons(run, reader, pid))

    def reasons(self, run, reader: Reader, paper_id: int) -> tuple[str, ...]:
        """Each interest the paper matches: "in cs.CL", "matches “…”", "by …", "from …"."""
        interests, papers, followed = self._interests(reader), reader.papers, reader.followed
        run.names(followed.authors, followed.organizations)
        found = [f"in {c}" for c in interests.categories if paper_id in papers.categories.get(c, ())]
        found += [f"matches “{_label(q)}”" for q, hits in interests.searches if paper_id in hits]
        if followed.authors and paper_id in papers.rank:
            names = sorted(run.author_name(a) for a in papers.authors_of(paper_id, followed.authors))
            if names:
                found.append("by " + ", ".join(n for n in names if n))
        found += [
            "from " + run.organization_name(oid, "an organization you follow")
            for oid in followed.organizations
            if paper_id in papers.organizations.get(oid, ())
        ]
        return tuple(found)
