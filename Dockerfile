# One image for every process of an exchange node: web (gunicorn), Celery worker, Celery beat and one-shot
# management commands (migrate, operator_token, import_products). Configuration and secrets come from the
# environment at run time (see docs/operations.md); nothing secret is baked into the image.
#
# Reproducible: the base image is pinned by digest (the official python:3.11.15-slim-trixie image, its
# multi-platform index digest as published in docker-library/repo-info; both stages use it), and every Python
# package comes from requirements/runtime.txt, pinned with hashes (docs/operations.md, "Dependencies and
# locks"). To move to a newer base image, take the digest of the new tag (`docker buildx imagetools inspect
# python:<tag>`, the "Digest:" line) and change both FROM lines; tests/test_image.py holds them to a digest.

# --- build: the runtime dependencies into a virtual environment of their own ---------------------------------
FROM python:3.11.15-slim-trixie@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Hashes required (a package missing from the lock, or a file matching none of its hashes, fails the build),
# wheels only (nothing is compiled). The environment is made without pip and filled by the base image's pip
# (`--python`), so it holds the runtime packages and nothing else: no pip, no setuptools, no test tools.
COPY requirements/runtime.txt /tmp/runtime.txt
RUN python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --require-hashes --only-binary :all: \
       -r /tmp/runtime.txt

# --- runtime -------------------------------------------------------------------------------------------------
FROM python:3.11.15-slim-trixie@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# An unprivileged user with a home directory (gunicorn's control socket is in the node's data directory:
# registry/gunicorn.py). The compose file's secret files must belong to its uid (scripts/make_secrets.py
# hands them over).
RUN groupadd --system --gid 10001 registry \
    && useradd --system --uid 10001 --gid registry --home-dir /home/registry --create-home \
       --shell /usr/sbin/nologin registry \
    && mkdir /data \
    && chown registry:registry /data

# The packages, owned by root like the code: the node's user can read them, not change them.
COPY --from=build /opt/venv /opt/venv

WORKDIR /app

# The code. .dockerignore keeps out what a node does not run: tests/, bench/, docs/, scripts/, the locks'
# tools, local virtual environments and data (var/), secrets and .env.
COPY . .

# Static files (admin, Swagger UI and ReDoc from drf-spectacular-sidecar, the portal's) into var/staticfiles, served by
# WhiteNoise. Settings must import here without a database or broker: development mode, a throw-away data
# directory and the in-memory broker, so nothing is created under /app/var except the static files.
RUN REGISTRY_ENV=development NODE_DATA_DIR=/tmp/collectstatic CELERY_BROKER_URL=memory:// \
       python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/collectstatic

# Production by default: without SECRET_KEY (or SECRET_KEY_FILE) and ALLOWED_HOSTS the container refuses to
# start with a message naming the variable. /data is NODE_DATA_DIR (Celery beat's schedule file lives there).
ENV REGISTRY_ENV=production \
    NODE_DATA_DIR=/data \
    WEB_CONCURRENCY=3

USER registry
EXPOSE 8000

# GET /api/v1/node/ answers 503 when the database is down. The Host header is the host of NODE_PUBLIC_URL
# (always in ALLOWED_HOSTS) and X-Forwarded-Proto says https, so the check works behind SECURE_SSL_REDIRECT too.
# Only meaningful for the web process: docker-compose.yml overrides it for the worker, beat and migrate.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.parse, urllib.request; host = urllib.parse.urlsplit(os.environ.get('NODE_PUBLIC_URL', 'http://127.0.0.1')).hostname or '127.0.0.1'; req = urllib.request.Request('http://127.0.0.1:8000/api/v1/node/', headers={'Host': host, 'X-Forwarded-Proto': 'https'}); sys.exit(0 if urllib.request.urlopen(req, timeout=8).status == 200 else 1)"]

# Worker processes come from WEB_CONCURRENCY (gunicorn reads it; 3 here, about 2 x CPU cores + 1 is usual),
# each with 4 threads. Extra gunicorn options can be given in GUNICORN_CMD_ARGS (the options below win over it).
# The request limits are gunicorn's defaults, stated: a longer request line is answered 414, more or longer
# header fields 431, by gunicorn in HTML before Django sees the request (docs/operations.md, Reverse proxy).
# registry/gunicorn.py gives the workers one metrics directory (/metrics adds up every worker's counts) and, in
# JSON mode, JSON lines for gunicorn's own log; each request is logged by the node (no gunicorn access log).
CMD ["gunicorn", "registry.wsgi", "-c", "python:registry.gunicorn", "--bind", "0.0.0.0:8000", "--threads", "4", \
     "--timeout", "60", \
     "--limit-request-line", "4094", "--limit-request-fields", "100", "--limit-request-field_size", "8190", \
     "--worker-tmp-dir", "/dev/shm", "--error-logfile", "-"]
