"""Run a command (the test suite) against a PostgreSQL 16 with pgvector that this script starts and stops.

    .venv/bin/python tests/with_postgres.py .venv/bin/pytest -q

The server comes from PyPI's pgserver (no system PostgreSQL, no network) and lives in a temporary directory.
The command gets PAPERFEED_DATABASE_URL (pytest-django makes its test database from it) and
PAPERFEED_TEST_POSTGRES (the server's directory, so that tests which start paperfeed processes of their own can
give each one a fresh database: see `site_env` in conftest.py). Exits with the command's status.
"""

import os
import subprocess
import sys
import tempfile

import pgserver


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix="paperfeed-postgres-") as directory:
        server = pgserver.get_server(directory, cleanup_mode="stop")
        try:
            server.psql("CREATE DATABASE paperfeed;")
            env = {
                **os.environ,
                "PAPERFEED_DATABASE_URL": server.get_uri("paperfeed"),
                "PAPERFEED_TEST_POSTGRES": directory,
            }
            return subprocess.run(sys.argv[1:], env=env).returncode
        finally:
            server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
