"""gunicorn settings for `make serve`, `make loadtest` and production (behind deploy/nginx.conf).

The site itself is configured only by the environment (see .env.example);
this file only says how gunicorn runs it: `gunicorn -c deploy/gunicorn_conf.py`.
"""

import multiprocessing
import os

# `make serve` binds a unix socket only nginx uses (GUNICORN_BIND=unix:/path);
# HOST:PORT otherwise (the benchmark's baseline, `make loadtest`).
bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# The socket is for its owner and group only (nginx's group), so nginx
# connects and other local users cannot.
umask = 0o007
# gunicorn gives the socket its own group: nginx's (serve.sh sets it as root).
if os.environ.get("GUNICORN_GROUP"):
    group = os.environ["GUNICORN_GROUP"]
# gunicorn's own default reads WEB_CONCURRENCY too; this one scales with the machine.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
wsgi_app = "therapyinfo.wsgi:application"
# Load the app once in the master: a configuration error (no DJANGO_SECRET_KEY)
# then stops start-up with its one line instead of workers failing in a loop.
preload_app = True
# Each request is logged once, with its id, by therapyinfo.middleware.RequestLogMiddleware.
accesslog = None
errorlog = "-"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# nginx sets X-Forwarded-For/-Proto itself and drops every other forwarding
# header; gunicorn trusts them only from nginx (a unix socket peer is always
# trusted, so only nginx must reach the socket). SCRIPT_NAME and PATH_INFO are
# never taken from a header (gunicorn's default trusts them from those peers:
# a `SCRIPT_NAME: /about` header made /about/ render the home page), and any
# other header name with an underscore is dropped, whoever sends it.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
forwarder_headers = ""
header_map = "drop"
# Several instances on one machine must not fight over one control socket.
control_socket_disable = True
