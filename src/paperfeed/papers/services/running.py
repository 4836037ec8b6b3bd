"""Which long-running paperfeed processes (the site, its indexer, workers) use a data directory: a restore must not
swap the database under them, and a copy should say that what they write next is not in it."""

from __future__ import annotations

import os
from pathlib import Path


def _paperfeed_service(argv: list[str]) -> str | None:
    """The command, if this command line is a long-running paperfeed process (serve, its indexer, a worker)."""
    for i, arg in enumerate(argv):
        if arg == "-m" and argv[i + 1 : i + 2] == ["paperfeed"]:
            rest = argv[i + 2 :]
        elif os.path.basename(arg) == "paperfeed":
            rest = argv[i + 1 :]
        else:
            continue
        if rest and (rest[0] in ("serve", "worker") or (rest[0] == "index" and "--watch" in rest)):
            return " ".join(["paperfeed", *rest])
        return None
    if argv and "[paperfeed]" in argv[0]:  # gunicorn's process title, where setproctitle is installed
        return argv[0]
    return None


def _data_dir_of(pid: Path, environ: dict[str, str]) -> str:
    """The data directory a process uses, as paperfeed.config.data_dir() would work it out in that process."""
    explicit = environ.get("PAPERFEED_DATA_DIR", "").strip()
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isabs(path):
            path = os.path.join(os.readlink(pid / "cwd"), path)
    else:
        xdg = environ.get("XDG_DATA_HOME", "").strip()
        base = os.path.expanduser(xdg) if xdg else os.path.join(environ.get("HOME", "~"), ".local", "share")
        path = os.path.join(base, "paperfeed")
    return os.path.realpath(path)


def servers_using(data_dir: Path) -> list[str]:
    """Long-running paperfeed processes on this data directory, as "pid N: command" (Linux's /proc; none are
    found elsewhere, or for processes of other users)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    wanted = os.path.realpath(data_dir)
    found = []
    for pid in proc.iterdir():
        if not pid.name.isdigit() or int(pid.name) == os.getpid():
            continue
        try:
            argv = [part.decode(errors="replace") for part in (pid / "cmdline").read_bytes().split(b"\0") if part]
            service = _paperfeed_service(argv)
            if service is None:
                continue
            pairs = (item.partition(b"=") for item in (pid / "environ").read_bytes().split(b"\0") if item)
            environ = {key.decode(errors="replace"): value.decode(errors="replace") for key, _, value in pairs}
            if _data_dir_of(pid, environ) == wanted:
                found.append(f"pid {pid.name}: {service}")
        except OSError:
            continue
    return sorted(found)
