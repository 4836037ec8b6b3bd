"""The documentation keeps up with the code: settings, commands, formulas and migrations."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from paperfeed import config

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
COMMANDS = sorted((ROOT / "src" / "paperfeed").glob("*/management/commands/*.py"))


def test_readme_starts_with_the_two_commands():
    head = "\n".join(README.splitlines()[:15])
    assert "make serve" in head and "make test" in head


@pytest.mark.parametrize("setting", config.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_readme_table(setting):
    assert re.search(rf"^\| `{setting.name}` \|", README, re.M), f"{setting.name} is missing from README.md"


def test_every_setting_the_code_reads_is_declared():
    declared = {s.name for s in config.SETTINGS}
    used = set()
    for path in (ROOT / "src").rglob("*.py"):
        used |= set(re.findall(r"\b(PAPERFEED_[A-Z_]+)\b", path.read_text()))
    assert used <= declared, f"read but not declared in paperfeed.config.SETTINGS: {sorted(used - declared)}"


@pytest.mark.parametrize("command", sorted(p.stem for p in COMMANDS if not p.stem.startswith("_")))
def test_every_command_is_documented(command):
    assert f"paperfeed {command.replace('_', '-')}" in README


def test_the_trending_formula_is_written_down():
    ranking = (ROOT / "docs" / "ranking.md").read_text()
    assert "0.5 ^ (age / half-life)" in ranking


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_readme_describes_every_package_of_the_layout_and_only_those():
    block = README[README.index("## Development") :].split("```")[1]
    described = set(re.findall(r"^  (\w+)/ ", block, re.M))
    folders = {
        path.name for path in (ROOT / "src" / "paperfeed").iterdir() if path.is_dir() and path.name != "__pycache__"
    }
    assert described == folders, f"README only: {described - folders}; folders only: {folders - described}"
    for name in described:  # each in one line, saying what it is for
        assert re.search(rf"^  {name}/ +\S.{{20,}}$", block, re.M), name
