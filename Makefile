# Vigil's two commands (`make run`, `make test`) and the rest of the developer loop.
# Everything installs itself on first use: a pinned Bun from the npm registry into .tools/,
# then the locked dependencies. No global installs, no Bun needed beforehand.

BUN_VERSION := 1.4.5
TOOLS       := .tools
BUN         := $(TOOLS)/bun-$(BUN_VERSION)/node_modules/.bin/bun
DEPS_STAMP  := node_modules/.vigil-deps-installed

# Arguments for `make run`, e.g. make run ARGS="--listen 127.0.0.1:9000 --no-local-agent".
ARGS ?=
# make deploy: the hosts (or deploy/hosts), DRY_RUN=1 to only look, DEPLOY_ARGS for the rest (bun scripts/deploy.ts --help).
HOSTS ?=
DRY_RUN ?=
DEPLOY_ARGS ?=
# The files make lint holds to the formatter (package.json's "format" script writes the same set).
FORMATTED   := src views static agent scripts test bench migrations/index.ts


.PHONY: run demo test typecheck lint build bench bench-quick deploy clean deps help image

help:
	@echo "make run        start vigil serve on the embedded database (http://localhost:8480)"
	@echo "make demo       the same with a simulated fleet of 12 workers x 8 GPUs (vigil simulate --demo)"
	@echo "make test       install what is missing, then typecheck and run the whole suite"
	@echo "make typecheck  the type checker and the HTML-escaping scan alone"
	@echo "make lint       the type checker and the formatter's check (prettier --check; fix: bun x prettier --write)"
	@echo "make build      compile dist/vigil (one file: runtime, assets, migrations, PGlite)"
	@echo "make deploy     build, then install or upgrade hosts over SSH: HOSTS=\"head:vigil-01,gpu-01\" or deploy/hosts;"
	@echo "                DRY_RUN=1 says what would change (docs/deploy.md)"
	@echo "make bench      run every benchmark under bench/ (see BENCHMARKS.md; about an hour; bench-quick: 15 minutes)"
	@echo "make image      docker images of the head and the agent (needs a Docker engine; see docs/containers.md)"
	@echo "make clean      remove dist/ and the installed tools"
	@echo "make help       this list"

run: deps
	$(BUN) src/main.ts serve $(ARGS)

# A head on its own embedded database (./vigil-demo-data) fed by vigil simulate --demo; Ctrl-C stops both.
demo: deps
	@BUN=$(BUN) scripts/demo.sh

test: deps
	@scripts/ensure-postgres.sh
	@scripts/ensure-chromium.sh
	@scripts/ensure-nginx.sh
	@scripts/ensure-sshd.sh
	$(BUN) x tsc --noEmit -p .
	$(BUN) x xss-scan
	$(BUN) test --timeout 30000

typecheck: deps
	$(BUN) x tsc --noEmit -p .
	$(BUN) x xss-scan

lint: deps
	$(BUN) x tsc --noEmit -p .
	$(BUN) x prettier --check --log-level warn $(FORMATTED)

build: deps
	$(BUN) scripts/build.ts

# Each prints a Markdown table for BENCHMARKS.md; together they take about an hour, most of it
# loading the history benchmark's day of 50 x 8 GPUs into each engine (`make bench-quick` skips that).
bench: bench-quick
	$(BUN) bench/history.ts

bench-quick: deps build
	$(BUN) bench/startup.ts
	$(BUN) bench/nvml-sweep.ts
	$(BUN) bench/spool.ts
	$(BUN) bench/agent.ts
	$(BUN) bench/ingest.ts
	$(BUN) bench/render.tsx
	$(BUN) bench/sse.ts
	$(BUN) bench/alerts.ts
	$(BUN) bench/heads.ts

deploy: build
	$(BUN) scripts/deploy.ts $(if $(strip $(HOSTS)),--hosts "$(HOSTS)") $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run) $(DEPLOY_ARGS)

deps: $(DEPS_STAMP)

$(BUN):
	@echo "installing bun $(BUN_VERSION) into $(TOOLS)/ (from the npm registry)"
	@mkdir -p $(TOOLS)/bun-$(BUN_VERSION)
	@cd $(TOOLS)/bun-$(BUN_VERSION) && echo '{"private":true}' > package.json && \
		npm install --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION) >/dev/null
	@$(BUN) --version >/dev/null || { echo "bun $(BUN_VERSION) did not install; see npm's output above" >&2; exit 1; }

$(DEPS_STAMP): $(BUN) package.json bun.lock
	$(BUN) install --frozen-lockfile
	@touch $@

# Keep BUN_VERSION equal to the Dockerfile's ARG BUN_VERSION (test/ops/containers.test.ts checks it).
image:
	docker build -t vigil . && docker build -t vigil-agent --target agent .

clean:
	rm -rf dist $(TOOLS)
