# The team's habits: `make demo` and `make test` work on a fresh machine with Python 3.11+, Node 20+ (npm) and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
export PYTHONPATH := functions:client:.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= us-east-1
# A real video file from a Debian package (MIT), fetched for the end-to-end tests.
MEDIA_DIR := .cache/media
REAL_VIDEO := $(MEDIA_DIR)/movie.mp4

.PHONY: help setup demo local test lint format typecheck unit integration infra e2e synth cfn-lint bench media clean \
	deploy diff destroy console chromium

help:
	@echo "make demo       run one real video through local mode (sets everything up)"
	@echo "make local      start local mode: HTTP API and web console on :8080, AWS endpoint on :5599 (TRANSCODER_API_PORT, TRANSCODER_AWS_PORT)"
	@echo "                CONTEXT=\"name=value ...\" sets deployment settings (cdk.json's transcoder keys), also for demo"
	@echo "make test       lint, type checks and the whole test suite"
	@echo "make synth      synthesize the CDK app into cdk.out/ (cdk-nag on) and cfn-lint it"
	@echo "make bench      measure the figures of targets.md"
	@echo "make deploy     deploy the stack with the pinned CDK CLI (AWS credentials needed; CDK_ARGS=... passes options)"
	@echo "make diff       what deploy would change;  make destroy  delete the stack"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==0.13.8

.venv/.synced: uv.lock pyproject.toml client/pyproject.toml | $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --extra cli
	@touch $@

setup: .venv/.synced

# The CDK CLI this project is tested with, pinned in package.json and package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The web console: static files bundled by esbuild (hls.js from node_modules, no CDN), served by local mode at /.
CONSOLE_SOURCES := console/build.mjs $(wildcard console/src/*)
console/dist/index.html: node_modules/.installed $(CONSOLE_SOURCES)
	node console/build.mjs
	@touch $@

console: console/dist/index.html

# The console's browser test drives Debian's Chromium (Playwright's own browser download is never needed).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# CONTEXT="name=value name2=value2": deployment settings for local mode (python -m localmode run --context ...).
CONTEXT_ARGS = $(foreach setting,$(CONTEXT),--context '$(setting)')

demo: setup console
	$(RUN) python -m localmode demo $(CONTEXT_ARGS)

local: setup console
	$(RUN) python -m localmode run $(CONTEXT_ARGS)

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) hadolint Dockerfile

format: setup
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: setup
	$(RUN) mypy functions client admin infra localmode bench

# Everything but tests/e2e runs in two pytest-xdist workers, a whole file to one worker (a module's fixtures,
# e.g. one CDK synthesis, are built once). tests/e2e runs after it, in one process: its tests start local mode
# and time real ffmpeg, so they get the machine to themselves. PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2
PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

unit: setup
	$(RUN) pytest $(PARALLEL) tests/unit

integration: setup
	$(RUN) pytest $(PARALLEL) tests/integration

infra: setup node_modules/.installed
	$(RUN) pytest $(PARALLEL) tests/infra

e2e: setup media console chromium
	REAL_VIDEO=$(REAL_VIDEO) $(RUN) pytest tests/e2e

# Both runs happen even when the first fails, so one `make test` reports every failure; it fails if either did.
test: lint typecheck media node_modules/.installed console chromium
	@export REAL_VIDEO=$(REAL_VIDEO); status=0; \
	echo "== pytest, $(PYTEST_WORKERS) workers: everything but tests/e2e"; \
	$(RUN) pytest $(PARALLEL) --durations=20 --ignore=tests/e2e || status=$$?; \
	echo "== pytest, one process: tests/e2e"; \
	$(RUN) pytest --durations=20 tests/e2e || status=$$?; \
	exit $$status

$(REAL_VIDEO):
	@mkdir -p $(MEDIA_DIR)/deb
	cd $(MEDIA_DIR)/deb && (apt-get download python3-hug-doc 2>/dev/null || (apt-get update -qq && apt-get download python3-hug-doc))
	dpkg -x $(MEDIA_DIR)/deb/python3-hug-doc_*.deb $(MEDIA_DIR)/deb/root
	cp $(MEDIA_DIR)/deb/root/usr/share/doc/python3-hug/examples/streaming_movie_server/movie.mp4 $@

media: $(REAL_VIDEO)

synth: setup node_modules/.installed
	rm -rf cdk.out
	$(RUN) python -c "from infra.app import build_app; build_app(outdir='cdk.out').synth()"
	$(MAKE) cfn-lint

cfn-lint: setup
	$(RUN) cfn-lint -i W3005 -- cdk.out/Transcoder.template.json

# The region above is the tests' default, not a place to deploy: the CLI takes the user's (environment or profile).
CDK := $(if $(filter file,$(origin AWS_DEFAULT_REGION)),env -u AWS_DEFAULT_REGION) npx --no-install cdk

deploy: setup node_modules/.installed
	$(CDK) deploy $(CDK_ARGS)

diff: setup node_modules/.installed
	$(CDK) diff $(CDK_ARGS)

destroy: setup node_modules/.installed
	$(CDK) destroy $(CDK_ARGS)

bench: setup
	$(RUN) python -m bench $(BENCH_ARGS)

clean:
	rm -rf cdk.out build .cache .pytest_cache .mypy_cache .ruff_cache console/dist
