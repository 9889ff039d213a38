# syntax=docker/dockerfile:1
#
# tunegate: the fine-tuning gateway as a container image.
#
# Build (CPU, the default; torch's CPU wheel, no CUDA libraries):
#   docker build -t tunegate:0.1.0 .
# Build the CUDA variant (torch's cu126 wheel, which brings its own CUDA runtime; the host needs
# the NVIDIA driver and container toolkit, and `docker run --gpus all`):
#   docker build --build-arg VARIANT=cuda -t tunegate:0.1.0-cuda .
# BASE_IMAGE may name another image, e.g. a CUDA one, provided it has Python 3.11 at the same
# path as python:3.11-slim-bookworm (/usr/local/bin/python3.11): the virtual environment built
# in the first stage is copied into the second and keeps pointing at that interpreter.
#
# Run:
#   docker run -p 8080:8080 -v tunegate-data:/var/lib/tunegate \
#     -v "$PWD/tunegate.yaml:/etc/tunegate/tunegate.yaml:ro" \
#     -e TUNEGATE_CONFIG=/etc/tunegate/tunegate.yaml -e OPENAI_API_KEY tunegate:0.1.0
#   ... tunegate:0.1.0 serve --no-worker    # HTTP API only; scale the worker separately
#   ... tunegate:0.1.0 worker               # background work only (no HTTP: run it with --no-healthcheck)
#   ... tunegate:0.1.0 migrate              # apply database migrations, then exit
#   ... tunegate:0.1.0 keys create --tenant acme --team ml --role admin
#
# Configuration is tunegate.yaml (mount it, point TUNEGATE_CONFIG at it) overlaid by TUNEGATE_*
# variables, nested keys joined by "__" (TUNEGATE_WORKER__POLL_INTERVAL=2,
# TUNEGATE_DATABASE_URL=postgresql+asyncpg://...). The image sets only non-secret defaults below
# (host, port, data dir, trainer.embedded); being environment, they win over the same keys in the
# YAML, so change them with -e (the health check follows TUNEGATE_PORT).
# Secrets are never baked in: upstream API keys and database passwords are written in the YAML as
# ${ENV_NAME} references and passed at run time (--env-file, a Kubernetes secretKeyRef, a mounted
# secret read into the environment by the orchestrator). The default upstream is the reference
# trainer on 127.0.0.1:8090, which the image does not start (TUNEGATE_TRAINER__EMBEDDED=false):
# configure a real upstream and its routes.
#
# Data (SQLite database, upload spool) lives in /var/lib/tunegate, a volume owned by uid 10001.
# The shipped policies are package data; set TUNEGATE_POLICY_DIR to a mounted directory to
# replace them (reloaded on change and on SIGHUP).

ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# builder: a virtual environment with torch (CPU or CUDA build) and the tunegate wheel.
FROM ${BASE_IMAGE} AS builder

ARG VARIANT=cpu
# Keep in step with the Makefile's TORCH pin.
ARG TORCH=torch==2.13.0
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_CUDA_INDEX=https://download.pytorch.org/whl/cu126

ENV PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# torch first, from PyTorch's own index, so that resolving tunegate's dependencies finds it
# installed and never pulls the default (CUDA) wheel from PyPI. The pin is kept in a file that
# the project install below reuses as a constraint.
RUN case "$VARIANT" in \
      cpu) index="$TORCH_CPU_INDEX" ;; \
      cuda) index="$TORCH_CUDA_INDEX" ;; \
      *) echo "VARIANT must be cpu or cuda, not '$VARIANT'" >&2; exit 1 ;; \
    esac \
    && printf '%s\n' "$TORCH" > torch-requirement.txt \
    && pip install --no-cache-dir --index-url "$index" --requirement torch-requirement.txt

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY classifiers ./classifiers
COPY policies ./policies
COPY trainer ./trainer

# The wheel carries the policies, migrations and benchmarks as package data. The harm-embedding
# heads (classifiers/weights) are not package data, so they are copied next to the installed
# package, where classifiers.harm_embedding looks for them. The constraint keeps the torch above.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip install --no-cache-dir --constraint torch-requirement.txt /wheels/tunegate-*.whl \
    && purelib="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && mkdir -p "$purelib/classifiers/weights" \
    && cp -R classifiers/weights/. "$purelib/classifiers/weights/" \
    && test -f "$purelib/policies/default.yaml" \
    && test -f "$purelib/policies/strict.yaml" \
    && test -f "$purelib/classifiers/weights/heads.npz" \
    && test -f "$purelib/gateway/evals/data/advbench-v1.jsonl" \
    && tunegate --help > /dev/null

# ---------------------------------------------------------------------------------------------
# runtime: the interpreter, the virtual environment and an unprivileged user; no build tools.
FROM ${BASE_IMAGE} AS runtime

ARG BASE_IMAGE
ARG VARIANT=cpu
ARG VERSION=0.1.0
ARG REVISION=unknown

LABEL org.opencontainers.image.title="tunegate" \
      org.opencontainers.image.description="An OpenAI-compatible fine-tuning gateway that scans training data and gates fine-tuned models for safety." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      io.tunegate.variant="${VARIANT}"

RUN groupadd --system --gid 10001 tunegate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/tunegate --create-home \
       --shell /usr/sbin/nologin tunegate \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/tunegate

COPY --from=builder /opt/venv /opt/venv

# litellm reads its bundled cost map instead of fetching one on import, and every model (MiniLM,
# Detoxify, guard models) is loaded from local files, so the hub is never asked.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    TUNEGATE_HOST=0.0.0.0 \
    TUNEGATE_PORT=8080 \
    TUNEGATE_DATA_DIR=/var/lib/tunegate \
    TUNEGATE_TRAINER__EMBEDDED=false

WORKDIR /var/lib/tunegate
USER 10001:10001
VOLUME ["/var/lib/tunegate"]
EXPOSE 8080

# Liveness of the HTTP API, with the interpreter already in the image (no curl). It follows
# TUNEGATE_PORT; a port changed only in tunegate.yaml needs --health-cmd to match.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('TUNEGATE_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["tunegate"]
CMD ["serve"]
