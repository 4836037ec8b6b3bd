"""PAPERFEED_DATABASE_URL: SQLite by default, PostgreSQL when it says so, and a clear stop when it cannot be used."""

from pathlib import Path

import pytest

from paperfeed import config


def test_without_a_url_the_site_is_one_sqlite_file_in_the_data_directory(tmp_path):
    settings = config.database(None, tmp_path)
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(settings["NAME"]) == tmp_path / "paperfeed.sqlite3"
    assert "journal_mode=WAL" in settings["OPTIONS"]["init_command"]


def test_a_postgresql_url_selects_postgresql_with_persistent_checked_connections(tmp_path):
    settings = config.database("postgresql://paper:secret@db.example:5433/papers", tmp_path)
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["HOST"], settings["PORT"], settings["NAME"], settings["USER"]) == (
        "db.example",
        5433,
        "papers",
        "paper",
    )
    assert settings["CONN_MAX_AGE"] > 0 and settings["CONN_HEALTH_CHECKS"]
    # A Unix socket directory, as a local PostgreSQL (and the tests' own) is reached.
    local = config.database("postgresql://postgres:@/papers?host=/run/postgresql", tmp_path)
    assert local["OPTIONS"] == {"host": "/run/postgresql"} and local["NAME"] == "papers"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("papers.example.org", "cannot be read"),
        ("postgresql://db:notaport/papers", "cannot be read"),
        ("mysql://db/papers", "runs on PostgreSQL or SQLite"),
        ("postgresql://db.example:5432", "names no database"),
    ],
)
def test_a_url_that_cannot_be_used_stops_start_up_naming_the_variable_and_the_fix(tmp_path, url, says):
    with pytest.raises(SystemExit) as stopped:
        config.database(url, tmp_path)
    message = str(stopped.value)
    assert message.startswith(f"PAPERFEED_DATABASE_URL={url!r}") and says in message
    assert "postgresql://user:password@host:5432/name" in message
