"""System checks of the papers app (`paperfeed check`): on PostgreSQL, whether search by meaning can work there."""

from django.core import checks


@checks.register(checks.Tags.database)
def vector_store(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """pgvector missing, or not enabled and beyond paperfeed's role to enable: what to install or run."""
    if not databases or "default" not in databases:
        return []  # database checks run with `paperfeed check` and `paperfeed migrate`, not before every command
    from paperfeed.papers.retrieval import vectors

    reason = vectors.unavailable_reason()
    return [checks.Warning(reason, id="papers.W001")] if reason else []
