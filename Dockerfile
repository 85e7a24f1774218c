# txclassify serving image: one uvicorn process on :8080, non-root, read-only root filesystem.
#
# Build context (repository root, see .dockerignore) must hold:
#   wheelhouse/  the txclassify wheel and its runtime dependencies as wheels, made on the host by
#                deploy/container-smoke.sh (or `pip wheel --no-deps -w wheelhouse .` then
#                `pip download --only-binary=:all: -d wheelhouse wheelhouse/txclassify-*.whl`);
#                installed with --no-index, so the build never talks to a package index.
#   models/      versioned model bundles (models/<name>-<version>/) and models/index.json.
#
# BASE defaults to the official slim image; offline builds pass a local bookworm image with
# python3 + python3-venv (deploy/container-smoke.sh makes one with debootstrap).
ARG BASE=python:3.11-slim

# checkov:skip=CKV_DOCKER_7: FROM ${BASE} is an ARG checkov cannot resolve; its default python:3.11-slim is tagged
FROM ${BASE} AS build
# Optional extras of the package, e.g. "[parquet]" for Parquet bulk scoring (pyarrow must then be in
# the wheelhouse too: pip download ... "wheelhouse/txclassify-*.whl[parquet]").
ARG EXTRAS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY wheelhouse/ /tmp/wheelhouse/
# Only binary wheels from the local wheelhouse: no compiler, no index. pip and setuptools are then
# removed from the venv: the runtime image never installs anything. The image serves only: whichever
# wheel it gets (container-smoke.sh builds one from service/ alone, deploy/README.md's recipe from the
# whole repository), the model pipeline's console script (txclassify-train) is removed, because torch
# and the [train] extra are never here and it could only fail.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links=/tmp/wheelhouse --only-binary=:all: "txclassify${EXTRAS}" \
    && /opt/venv/bin/pip uninstall --yes setuptools pip \
    && rm -f /opt/venv/bin/txclassify-train \
    && find /opt/venv -depth -type d -name tests -exec rm -rf {} + \
    && rm -rf /tmp/wheelhouse

FROM ${BASE} AS runtime
ARG DEFAULT_BUNDLE=txclassify-1.2.0
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="txclassify" \
      org.opencontainers.image.description="Bank-transaction narration classifier: distilled int8 transformer behind a dynamic-batching API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      io.txclassify.default-bundle="${DEFAULT_BUNDLE}"

# Fixed UID/GID so Kubernetes' runAsUser/fsGroup and the image agree.
RUN groupadd --system --gid 10001 txclassify \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin txclassify

COPY --from=build /opt/venv /opt/venv
COPY models/ /opt/txclassify/models/

# Nothing is written outside /tmp at run time (HOME=/tmp for any library that wants a cache dir),
# so the container runs with a read-only root filesystem and a tmpfs/emptyDir on /tmp.
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TXC_MODEL_DIR=/opt/txclassify/models/${DEFAULT_BUNDLE} \
    TXC_HOST=0.0.0.0 \
    TXC_PORT=8080

USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
# Kubernetes ignores this (the chart has its own probes); podman/docker use it.
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TXC_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["txclassify"]
# Listens on TXC_HOST:TXC_PORT (0.0.0.0:8080 unless overridden).
CMD ["serve"]
