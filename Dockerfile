# syntax=docker/dockerfile:1
# The Deconfliction Hotline hub as a container image (docs/deployment.md).
#
#   docker build -t deconfliction:0.1.0 .
#   docker run --rm -p 127.0.0.1:8000:8000 -v hotline-data:/data deconfliction:0.1.0
#   docker run --rm -v hotline-data:/data deconfliction:0.1.0 admin init     # first admin token
#
# Stage 1 installs the package and its pinned dependencies (requirements/lock.txt as
# constraints, with the PostgreSQL and NATS extras) into a virtualenv; stage 2 copies that
# virtualenv onto a clean base and runs it as an unprivileged user. Settings come from
# DECONFLICTION_* variables (docs/configuration.md); the defaults below suit a container.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/deconfliction

WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/lock.txt requirements/lock.txt
COPY src ./src

# Every dependency at the version the lock pins; the extras: postgres (psycopg 3) and nats
# (nats-py, for the JetStream bus between several nodes).
# Every locked dependency has a wheel for linux/amd64 (pip --dry-run --report): no compiler.
RUN /opt/deconfliction/bin/pip install -c requirements/lock.txt '.[postgres,nats]'

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="Deconfliction Hotline" \
      org.opencontainers.image.description="Declare 4D activities, learn at once whom they affect, prove who was told what, when." \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed uid/gid, so that volumes and files mounted from the host can be owned by it.
RUN groupadd --system --gid 10001 deconfliction \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin deconfliction \
    && install -d -o 10001 -g 10001 -m 0700 /data

COPY --from=build /opt/deconfliction /opt/deconfliction

# /data holds the hub's Ed25519 ledger key (ledger-key.pem, mode 0600) and, unless
# DECONFLICTION_DATABASE_URL names PostgreSQL, the SQLite database (hotline.db).
ENV PATH=/opt/deconfliction/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DECONFLICTION_HOST=0.0.0.0 \
    DECONFLICTION_PORT=8000 \
    DECONFLICTION_DATA_DIR=/data \
    DECONFLICTION_LOG_FORMAT=json \
    DECONFLICTION_PROGRESS=false

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]

# HTTP API, console and WebSocket stream; the Cursor-on-Target gateway's TCP and TLS
# listeners when a CoT file configures them (tcp_port / tls_port, usually 8087 / 8089).
EXPOSE 8000 8087 8089

# Healthy = /readyz answers 200: the store is reachable and the index is loaded (503 while
# the index is rebuilt at start; a large store may need a longer --start-period).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('DECONFLICTION_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["deconfliction"]
CMD ["serve", "--log-level", "info"]
