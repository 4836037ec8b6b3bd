"""Tags for the partials that show a paper's refreshed extras (services.extras_shown)."""

from django import template

from paperfeed.papers import models
from paperfeed.papers.services import extras_shown

register = template.Library()


@register.simple_tag
def paper_extras(paper):
    """The paper's PaperExtras row, or None (loaded with the paper by cards and pages: no query)."""
    return models.paper_extras(paper)


@register.filter
def github_stars(paper):
    """The stars of the paper's own code repository, or None (extras_shown.stars)."""
    return extras_shown.stars(paper)


@register.simple_tag
def citing_artifacts(extras, paper):
    return extras_shown.citing(extras, paper.arxiv_id)
