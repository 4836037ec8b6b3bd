"""What pages and the Hugging Face-compatible API show of a paper's refreshed extras: its repository's GitHub stars
(on cards, a figure every card query carries) and the Hugging Face models, datasets and Spaces that cite it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from paperfeed.core.github import repo_of, same_repo
from paperfeed.core.hf_artifacts import KINDS
from paperfeed.papers.models import Paper, PaperExtras, paper_extras

HUB = "https://huggingface.co"
LABELS = {"models": "Models", "datasets": "Datasets", "spaces": "Spaces"}
PAGE_PREFIX = {"models": "", "datasets": "datasets/", "spaces": "spaces/"}


def stars(paper: Paper) -> int | None:
    """The GitHub stars of the paper's code repository, None when unknown or when what is stored is of another
    repository than its code link now names. Reads `paper.extras`, which cards and pages load with the paper."""
    extras = paper_extras(paper)
    repository = repo_of(paper.code_url) if paper.code_url else None
    if extras is None or extras.github_stars is None or not repository:
        return None
    return extras.github_stars if same_repo(extras.github_repo, repository) else None


@dataclass(frozen=True)
class Cited:
    """One kind of artifact citing a paper: the few stored, best liked first, and how many there are."""

    kind: str
    items: tuple[dict, ...]
    total: int
    complete: bool  # False: the Hub listed as many as was asked for, and may have more
    search_url: str  # huggingface.co's list of them all

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)

    def links(self) -> list[tuple[str, dict]]:
        return [(f"{HUB}/{PAGE_PREFIX[self.kind]}{quote(item['id'], safe='/')}", item) for item in self.items]


def citing(extras: PaperExtras | None, arxiv_id: str | None) -> list[Cited] | None:
    """The kinds with at least one artifact, in the Hub's order; None when the Hub was never asked (nothing known),
    [] when it was and nothing cites the paper."""
    if extras is None or extras.hf_artifacts_checked_at is None or not arxiv_id:
        return None
    stored = extras.hf_artifacts or {}
    shown = []
    for kind in KINDS:
        items = tuple(item for item in stored.get(kind, []) if isinstance(item, dict) and item.get("id"))
        total = max(int(stored.get("total", {}).get(kind, len(items))), len(items))
        if total:
            complete = bool(stored.get("complete", {}).get(kind, True))
            search_url = f"{HUB}/{kind}?other=arxiv:{quote(arxiv_id)}"
            shown.append(Cited(kind, items, total, complete, search_url))
    return shown
