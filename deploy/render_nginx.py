"""Render deploy/nginx.conf into a directory nginx runs from (`make serve`, the tests, the bench).

    python deploy/render_nginx.py --prefix /tmp/x --listen 127.0.0.1:8080 \
        --upstream unix:/tmp/x/gunicorn.sock [--upstream 127.0.0.1:8001 ...] \
        [--cache-dir /var/cache/therapyinfo] [--trusted-proxy 10.0.0.0/8 ...]

Writes PREFIX/nginx.conf and the files it includes (readable by their owner
only: they hold the staff cookie's secret, derived from DJANGO_SECRET_KEY);
then `nginx -p PREFIX -c PREFIX/nginx.conf -e stderr` runs it in the foreground.
"""

import argparse
import os
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
BASE_DIR = DEPLOY.parent
sys.path.insert(0, str(BASE_DIR))
from therapyinfo.frontdoor import STAFF_COOKIE, staff_secret  # noqa: E402

TEMPLATES = (
    "nginx.conf",
    "proxy_params.conf",
    "page_cache.conf",
    "error_pages.conf",
    "error_page_files.conf",
    "gate_error_pages.conf",
    "security_headers.conf",
)
# Requests per second that may reach the app from one address (a cache miss,
# the admin, a preview), and the burst allowed on top: far above what a
# person clicking through the admin makes, far below a flood.
RATE = "10r/s"
BURST = 40


def render(
    prefix,
    listen,
    upstreams,
    static_root=BASE_DIR / "staticfiles",
    access_log="/dev/stderr",
    cache_dir=None,
    trusted_proxies=(),
    secret_key=None,
):
    prefix = Path(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir) if cache_dir else prefix / "cache"
    secret_key = secret_key or os.environ["DJANGO_SECRET_KEY"]
    root = os.geteuid() == 0
    values = {
        "PREFIX": str(prefix),
        "LISTEN": listen,
        # Each app server twice: the second is the retry when a worker dies.
        "UPSTREAMS": "\n        ".join(
            f"server {upstream} max_fails=0;" for upstream in upstreams for _ in range(2)
        ),
        "STATIC_ROOT": str(static_root),
        "APP_STATIC_URL": "/static/",
        "ACCESS_LOG": "off" if access_log == "off" else f"{access_log} front",
        "CACHE_DIR": str(cache_dir),
        "TRUSTED_PROXIES_GEO": "\n        ".join(f"{proxy} 1;" for proxy in trusted_proxies),
        "REAL_IP": "\n        ".join(
            [f"set_real_ip_from {proxy};" for proxy in trusted_proxies]
            + ["real_ip_header X-Forwarded-For;", "real_ip_recursive on;"]
            if trusted_proxies
            else []
        ),
        "STAFF_COOKIE": STAFF_COOKIE,
        "STAFF_SECRET": staff_secret(secret_key),
        "RATE": RATE,
        "BURST": str(BURST),
        # As root, nginx's workers drop to nobody; the socket and files must be readable by it.
        "USER": "user nobody nogroup;" if root else "",
    }
    for name in TEMPLATES:
        text = (DEPLOY / name).read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        path = prefix / name
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(text)
    if root:
        # nginx's workers (nobody) reach the run directory, but list nothing in it.
        # (serve.sh's setgid bit, which gives the socket nginx's group, is kept.)
        prefix.chmod(0o711 | (prefix.stat().st_mode & 0o2000))
    return prefix / "nginx.conf"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", action="append", required=True)
    parser.add_argument("--access-log", default="/dev/stderr", help="a file, or off")
    parser.add_argument("--cache-dir", help="the page cache (default: PREFIX/cache)")
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        help="a load balancer's address or CIDR range, whose X-Forwarded-For/-Proto are believed",
    )
    args = parser.parse_args()
    conf = render(
        args.prefix,
        args.listen,
        args.upstream,
        access_log=args.access_log,
        cache_dir=args.cache_dir,
        trusted_proxies=args.trusted_proxy,
    )
    print(conf)


if __name__ == "__main__":
    main()
