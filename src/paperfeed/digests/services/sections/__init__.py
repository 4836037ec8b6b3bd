"""The sections of a digest, in the order they choose papers and are shown. Adding one is writing its module
(see base.Section) and adding it here."""

from paperfeed.digests.services.sections.base import Chosen, Reader, Section
from paperfeed.digests.services.sections.for_you import ForYou
from paperfeed.digests.services.sections.interests import Interests
from paperfeed.digests.services.sections.like_collections import LikeCollections
from paperfeed.digests.services.sections.most_discussed import MostDiscussed
from paperfeed.digests.services.sections.trending import Trending

SECTIONS: tuple[Section, ...] = (
    Trending(),
    Interests(),
    MostDiscussed(),
    ForYou(),
    LikeCollections(),
)

__all__ = ["SECTIONS", "Chosen", "Reader", "Section"]
