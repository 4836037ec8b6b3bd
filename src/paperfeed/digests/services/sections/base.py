"""What every digest section is: a key, a title, an optional note, and a way to choose papers with their reasons.

A section is asked once per digest, after the sections before it in the registry (sections/__init__.py), and
gets the run (`DigestComposer`: what every subscriber shares, computed once) and the reader (`Reader`: this
subscriber's digest so far). It returns candidates best first; composition (compose.py) drops the ones an earlier
section took or an earlier digest sent and those the keyword filters reject, and takes at most `most` of the
rest (the subscriber's maximum when None) before the digest is cut to that maximum.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from paperfeed.digests.models import Subscription
    from paperfeed.digests.services.compose import DigestComposer, Follows, History, PeriodPapers
    from paperfeed.digests.services.schedule import DigestPeriod, ListWindow


@dataclass(frozen=True)
class Chosen:
    """A paper a section proposes, and why: shown under it ("trending #2", "in cs.CL", "4 comments")."""

    paper_id: int
    reasons: tuple[str, ...]


@dataclass
class Reader:
    """One subscriber's digest as the sections see it while it is composed."""

    subscription: Subscription
    period: DigestPeriod
    window: ListWindow
    papers: PeriodPapers  # the visible papers listed in `window`, shared with every digest of the same window
    history: History
    followed: Follows
    include: list[str]
    exclude: list[str]
    limit: int  # the subscriber's maximum number of papers
    taken: list[int] = field(default_factory=list)  # the papers earlier sections of this digest kept, in order
    memo: dict = field(default_factory=dict)  # a section's own working data for this digest, under its key

    @property
    def weekly(self) -> bool:
        return self.period.frequency == "weekly"


class Section(ABC):
    """A digest section; subclasses set `key` and `heading` and write `choose`."""

    key: ClassVar[str]  # unique among the registered sections; Digest.items_of(key) finds its papers
    heading: ClassVar[str]
    note: ClassVar[str] = ""  # a line shown under the title, when the section has papers
    most: ClassVar[int | None] = None  # papers at the most; None: as many as the subscriber's maximum
    # Kept whole: the section takes its place in the maximum first and only the other sections are cut to what is
    # left (For you, small by itself). Otherwise it shares the maximum with the other sections (see compose._cut).
    kept_whole: ClassVar[bool] = False

    def title(self, weekly: bool) -> str:
        """The section's title in this digest (a daily and a weekly digest may word it differently)."""
        return self.heading

    @abstractmethod
    def choose(self, run: DigestComposer, reader: Reader) -> Iterable[Chosen]:
        """The papers this section proposes for the reader's digest, best first; may be a lazy iterable, read
        only as far as composition needs."""

    def reasons(self, run: DigestComposer, reader: Reader, paper_id: int) -> tuple[str, ...]:
        """Why this section would have proposed a paper that an earlier section took, shown after that section's
        reasons; none by default."""
        return ()
