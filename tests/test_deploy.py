"""docs/deploy.md is what the tests run: its environment file passes `paperfeed check --deploy`, and every command
its systemd units start exists with the options they give."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import site_env

DEPLOY = (Path(__file__).parent.parent / "docs" / "deploy.md").read_text()


def documented_environment() -> dict[str, str]:
    block = re.search(r"```sh\n# /etc/paperfeed/paperfeed.env\n(.*?)```", DEPLOY, re.S).group(1)
    settings = {}
    for line in block.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value
    return settings


def test_the_documented_environment_passes_check_deploy(tmp_path):
    documented = documented_environment()
    assert documented["PAPERFEED_SITE_URL"].startswith("https://") and documented["PAPERFEED_TRUSTED_PROXIES"] == "1"
    env = site_env(tmp_path, {**os.environ, **documented})  # the data directory and database are the test's own
    env.pop("PAPERFEED_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize("command", sorted(set(re.findall(r"ExecStart=\S*/paperfeed (.+)", DEPLOY))))
def test_every_command_a_unit_starts_takes_those_options(command):
    """`paperfeed serve --host … --port …`, `paperfeed worker --concurrency 2`: each option is one the command knows."""
    words = shlex.split(command.replace("…", "").strip())
    name, options = words[0], [w for w in words[1:] if w.startswith("--")]
    helped = subprocess.run(
        [sys.executable, "-m", "paperfeed", name, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PAPERFEED_DATA_DIR": os.environ["PAPERFEED_DATA_DIR"]},
    )
    assert helped.returncode == 0, helped.stderr
    for option in options:
        assert option in helped.stdout, f"`paperfeed {name}` has no {option}"


def test_the_proxy_sends_the_headers_the_settings_trust():
    nginx = re.search(r"```nginx\n(.*?)```", DEPLOY, re.S).group(1)
    for header in ["Host $host", "X-Forwarded-Proto $scheme", "X-Forwarded-For $proxy_add_x_forwarded_for"]:
        assert f"proxy_set_header {header};" in nginx
