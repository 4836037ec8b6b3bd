"""Most discussed: the papers of the digest's list days with the most comments (at least MIN_COMMENTS), as the
site counts them: hidden comments, the placeholders of deleted ones (an empty body) and groups' private comments
left out."""

from __future__ import annotations

from django.db.models import Count

from paperfeed.community.services.comments import public_comments
from paperfeed.digests.services.sections.base import Chosen, Reader, Section
from paperfeed.papers.models import DailyEntry

MIN_COMMENTS = 2
MOST_DISCUSSED_SIZE = 3


class MostDiscussed(Section):
    key = "most_discussed"
    heading = "Most discussed"
    most = MOST_DISCUSSED_SIZE  # of those not already in the digest: the next most discussed take their place

    def choose(self, run, reader: Reader) -> list[Chosen]:
        """The window's papers by number of comments, most first, then as the lists rank them."""
        window, papers = reader.window, reader.papers
        counts = run.shared((self.key, window.start, window.end), lambda: _comment_counts(window, run.now))
        found = sorted((pid for pid in counts if pid in papers.rank), key=lambda pid: (-counts[pid], papers.rank[pid]))
        return [Chosen(pid, (f"{counts[pid]} comments",)) for pid in found]


def _comment_counts(window, now) -> dict[int, int]:
    """Paper id -> visible comments written up to `now`, for the papers listed in `window` with MIN_COMMENTS."""
    if window.start is None:
        return {}
    listed = DailyEntry.objects.filter(day__range=(window.start, window.end)).values("paper_id")
    rows = (
        public_comments()
        .filter(paper_id__in=listed, created_at__lte=now)
        .exclude(body="")
        .values("paper_id")
        .annotate(n=Count("id"))
        .filter(n__gte=MIN_COMMENTS)
        .values_list("paper_id", "n")
    )
    return dict(rows)
