# The Fargate worker: the Lambda functions' domain code and the Lambda layer's static ffmpeg, in one image.
# CDK builds it at deploy time (infra/constructs/fargate_worker.py); tests/infra/test_worker_image.py checks,
# without Docker, that it installs what the Lambda side installs.
FROM python:3.13-slim-bookworm

# x86_64 or arm64: the deployment's `architecture` setting, passed by CDK.
ARG ARCHITECTURE=x86_64
ARG UV_VERSION=0.13.8

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /build
# The static ffmpeg and ffprobe, by the layer's own build script: same package, version and files, in the
# same place (/opt/bin, licences in /opt/licenses/ffmpeg), where the domain code looks for them.
COPY layers/ffmpeg/ layers/ffmpeg/
RUN python layers/ffmpeg/build.py --architecture "${ARCHITECTURE}" --out /opt \
    && /opt/bin/ffmpeg -hide_banner -version | head -n 1

# The locked run-time dependencies, as the functions' asset installs them (no dev tools, hashes checked). The
# workspace's own projects are not wheels to install: the worker's code is functions/ (it imports nothing of
# the client distribution's, tests/infra/test_worker_image.py checks).
COPY pyproject.toml uv.lock ./
RUN uv export --frozen --no-dev --no-emit-workspace --no-header --no-annotate --color never -o requirements.txt \
    && uv pip install --system --no-deps --require-hashes --only-binary :all: -r requirements.txt \
    && rm -rf /build /root/.cache

WORKDIR /app
COPY functions/ /app/
RUN python -m compileall -q /app \
    && useradd --system --uid 10001 --no-create-home worker
USER 10001

ENTRYPOINT ["python", "-m", "worker"]
