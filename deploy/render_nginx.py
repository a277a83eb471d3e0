"""Render deploy/nginx.conf into a directory nginx runs from (`make serve`, the tests, the bench).

    python deploy/render_nginx.py --prefix /tmp/x --listen 127.0.0.1:8080 \
        --upstream unix:/tmp/x/gunicorn.sock [--upstream 127.0.0.1:8001 ...]

Writes PREFIX/nginx.conf and the files it includes; then
`nginx -p PREFIX -c PREFIX/nginx.conf -e stderr` runs it in the foreground.
"""

import argparse
import os
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
BASE_DIR = DEPLOY.parent


def render(
    prefix, listen, upstreams, static_root=BASE_DIR / "staticfiles", access_log="/dev/stderr"
):
    prefix = Path(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    values = {
        "PREFIX": str(prefix),
        "LISTEN": listen,
        "UPSTREAMS": "\n        ".join(f"server {upstream};" for upstream in upstreams),
        "STATIC_ROOT": str(static_root),
        "APP_STATIC_URL": "/static/",
        "ACCESS_LOG": "off" if access_log == "off" else f"{access_log} front",
        # As root, nginx's workers drop to nobody; the socket and files must be readable by it.
        "USER": "user nobody nogroup;" if os.geteuid() == 0 else "",
    }
    for name in ("nginx.conf", "proxy_params.conf", "page_cache.conf"):
        text = (DEPLOY / name).read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        (prefix / name).write_text(text)
    if os.geteuid() == 0:
        prefix.chmod(0o755)
    return prefix / "nginx.conf"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", action="append", required=True)
    parser.add_argument("--access-log", default="/dev/stderr", help="a file, or off")
    args = parser.parse_args()
    print(render(args.prefix, args.listen, args.upstream, access_log=args.access_log))


if __name__ == "__main__":
    main()
