"""Tags for the partials that show a paper's refreshed extras (services.extras_shown)."""

from django import template

from paperfeed.papers.services import extras_shown

register = template.Library()


@register.simple_tag
def paper_extras(paper):
    """The paper's PaperExtras row, or None: one query, kept on the paper for the page's other partials."""
    if not hasattr(paper, "_shown_extras"):
        paper._shown_extras = extras_shown.extras_of(paper)
    return paper._shown_extras


@register.simple_tag
def citing_artifacts(extras, paper):
    return extras_shown.citing(extras, paper.arxiv_id)
