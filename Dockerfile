# Vigil images: `vigil serve` (the head, the default target) and `vigil agent` (--target agent), built from this
# repository with the pinned Bun and shipped as the one compiled binary on a slim Debian. See docs/containers.md.
#
#   docker build -t vigil .                              # the head
#   docker build -t vigil-agent --target agent .         # the agent; run it with --gpus all
#
# Not built or run where Vigil is developed (no Docker engine there); test/ops/containers.test.ts lints this file.

# The Bun that the Makefile pins (BUN_VERSION there); keep the two equal.
ARG BUN_VERSION=1.4.5
ARG DEBIAN_RELEASE=bookworm

# --- build: dist/vigil, exactly as `make build` makes it ----------------------------------------------------------
FROM oven/bun:${BUN_VERSION} AS build
# scripts/build.ts asks git for the commit that `vigil version` prints (the context carries .git for it).
RUN apt-get update \
	&& apt-get install -y --no-install-recommends git \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused until package.json or bun.lock change.
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY . .
# The version check runs the binary once: a build that cannot start fails here, not at deploy time.
RUN bun scripts/build.ts /out/vigil && /out/vigil version

# --- runtime: what both images share ------------------------------------------------------------------------------
# glibc, which the compiled Bun binary links against; nothing of Bun or node_modules comes along.
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: webhooks and mail to servers signed by a private CA added to the image; curl: the health check;
# tini: PID 1 that forwards SIGTERM (vigil flushes and closes its database on it) and reaps nvidia-smi children.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates curl tini \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --user-group --home-dir /var/lib/vigil --no-create-home --shell /usr/sbin/nologin vigil \
	&& install -d -m 0750 -o vigil -g vigil /var/lib/vigil /var/lib/vigil-agent
# Root-owned and not writable by vigil: an agent's self-update fails here (logged) and the image is updated instead.
COPY --from=build /out/vigil /usr/local/bin/vigil
USER vigil
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/vigil"]
CMD ["--help"]

# --- agent: docker run --gpus all ... (the NVIDIA Container Toolkit mounts libnvidia-ml and /dev/nvidia*) ----------
FROM runtime AS agent
# "utility" is what NVML and nvidia-smi need; no CUDA compute libraries are mounted.
ENV NVIDIA_DRIVER_CAPABILITIES=utility \
	VIGIL_AGENT_DIR=/var/lib/vigil-agent
WORKDIR /var/lib/vigil-agent
# VIGIL_HEAD and VIGIL_TOKEN come from `docker run -e`; the spool and credential live in /var/lib/vigil-agent.
CMD ["agent"]

# --- head: the default target -------------------------------------------------------------------------------------
FROM runtime AS head
# The container's own /proc is not a worker worth watching: run the agent image (or install.sh) on each GPU machine,
# this one included. VIGIL_LOCAL_AGENT=true brings the in-process agent back.
ENV VIGIL_DATA_DIR=/var/lib/vigil \
	VIGIL_LISTEN=0.0.0.0:8480 \
	VIGIL_LOCAL_AGENT=false
WORKDIR /var/lib/vigil
EXPOSE 8480
# /healthz is public and answers 503 when the database is gone. The first start runs migrations: give it a minute.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
	CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8480/healthz"]
CMD ["serve"]
