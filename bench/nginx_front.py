"""nginx in front of paperfeed, as docs/deploy.md and docs/operations.md set it up, for bench/load.py --front nginx.

The configuration is built from the documentation itself: the `location /` lines of docs/deploy.md's nginx site
(proxy headers) and every line of the micro-cache block in docs/operations.md ("Caching"), so the benchmark measures
what an operator copies, and a change to the documented lines changes what is measured. Only what cannot be copied
is replaced: TLS (the benchmark speaks plain HTTP on 127.0.0.1), the upstream's addresses and the cache's directory.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy.md"
OPERATIONS = ROOT / "docs" / "operations.md"
MICRO_CACHE_MARK = "# nginx micro-cache for paperfeed"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _nginx_blocks(text: str) -> list[str]:
    return re.findall(r"```nginx\n(.*?)```", text, flags=re.S)


def _location_lines(block: str) -> list[str]:
    """The directives inside `location / { … }` of an nginx block, comments and `# …` placeholders left out."""
    inside = re.search(r"location / \{\n(.*?)\n {4}\}", block, flags=re.S)
    if inside is None:
        raise ValueError("no `location / {` in the documented nginx block")
    lines = [line.split("#", 1)[0].strip() for line in inside.group(1).splitlines()]
    return [line for line in lines if line]


def documented() -> tuple[list[str], str, list[str]]:
    """(the proxy lines of docs/deploy.md's `location /`, the micro-cache's lines outside `server { … }`, its
    `location /` lines), as the documentation has them."""
    site = next(block for block in _nginx_blocks(DEPLOY.read_text()) if "upstream paperfeed" in block)
    cache = next(block for block in _nginx_blocks(OPERATIONS.read_text()) if MICRO_CACHE_MARK in block)
    http = cache[: cache.index("\nserver {")]
    if "proxy_cache_path " not in http or "upstream paperfeed_pages" not in http:
        raise ValueError("the micro-cache block of docs/operations.md lost its proxy_cache_path or upstream")
    return _location_lines(site), http, _location_lines(cache)


def config(run_dir: Path, listen_port: int, upstream_ports: list[int], pages_ports: list[int]) -> str:
    """nginx.conf for a run: the documented lines, with this run's directories and ports."""
    proxy, http, cache = documented()
    if any(line.startswith("proxy_pass ") for line in cache):
        proxy = [line for line in proxy if not line.startswith("proxy_pass ")]
    # The documented `Host $host` drops the port, which a site on 443 does not need; on a port of its own the site
    # must see the port its visitors used (Django checks a form's Origin against it).
    proxy = [line.replace("Host $host;", "Host $http_host;") for line in proxy]
    http = re.sub(r"(?m)^proxy_cache_path \S+", f"proxy_cache_path {run_dir / 'nginx-cache'}", http)
    pages = "\n".join(f"    server 127.0.0.1:{port};" for port in pages_ports)
    http = re.sub(r"(upstream paperfeed_pages \{\n)(?:\s*(?:server [^\n]*|#[^\n]*)\n)+", rf"\g<1>{pages}\n", http)
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in upstream_ports)
    temp = "\n".join(f"    {kind}_temp_path {run_dir / ('nginx-' + kind)};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.getuid() == 0 else ""
    location = "\n".join(f"            {line}" for line in [*proxy, *cache])
    return f"""# made by bench/nginx_front.py from docs/deploy.md and docs/operations.md
{user}worker_processes auto;
daemon off;
pid {run_dir / "nginx.pid"};
error_log {run_dir / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
{http}
    upstream paperfeed {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{listen_port} backlog=4096;
        location / {{
{location}
        }}
    }}
}}
"""


def start(
    run_dir: Path, listen_port: int, upstream_ports: list[int], pages_ports: list[int], log: Path
) -> subprocess.Popen:
    """nginx in the foreground, in a process group of its own (the caller stops the group)."""
    conf = run_dir / "nginx.conf"
    conf.write_text(config(run_dir, listen_port, upstream_ports, pages_ports))
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(run_dir)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refused {conf}:\n{checked.stderr}")
    return subprocess.Popen([NGINX, "-c", str(conf), "-p", str(run_dir)], stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
