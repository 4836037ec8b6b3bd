"""What a chat delivery says, before any receiver's markup: a title, sections of papers, a link to the rest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperLine:
    """One paper as a chat message lists it; `address` is how the site names it (2503.11731, biorxiv:10.1101/…)."""

    address: str
    title: str
    url: str
    authors: str = ""
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageSection:
    key: str
    heading: str
    papers: tuple[PaperLine, ...]
    note: str = ""


@dataclass(frozen=True)
class Message:
    """One delivery: `event` names what it is (digest, saved-search, test, …), `link` where the site shows all of
    it (the "and N more" of a receiver that cannot take everything points there)."""

    event: str
    title: str
    site_name: str
    site_url: str
    link: str
    sections: tuple[MessageSection, ...] = ()
    intro: str = ""
    period: str = ""  # the send-log key (daily:2026-11-28), empty for a test message

    @property
    def paper_count(self) -> int:
        return sum(len(section.papers) for section in self.sections)
