# syntax=docker/dockerfile:1
# linkpilot as a container (sidecar next to CI runners or a reverse proxy). See
# docs/container.md. Build: docker build -t linkpilot .
# Without Docker Hub, give Debian 12 images of your own (scripts/test-image makes one with
# mmdebstrap): --build-arg BUILD_IMAGE=... --build-arg RUNTIME_IMAGE=...
ARG BUILD_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim

# ---- build: the build-time subset of scripts/setup (no clang, fuzz, bench, tests, node) ----
FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates ccache \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libssl-dev libsqlite3-dev libpq-dev libyaml-cpp-dev libspdlog-dev libfmt-dev \
      libcli11-dev libre2-dev libhowardhinnant-date-dev libsystemd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Optional compiler cache: `podman build --volume DIR:/ccache --build-arg CCACHE_DIR=/ccache`
# (scripts/test-image). Without the build arg (a plain `docker build`), ccache is not used.
# The build tree (~900 MB of objects with -g) is removed in the same step, so no layer keeps it.
ARG CCACHE_DIR=
RUN launcher="" \
 && if [ -n "$CCACHE_DIR" ]; then \
      export CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1; launcher=ccache; ccache --zero-stats; \
    fi \
 && cmake --preset release -DLINKPILOT_TESTS=OFF -DLINKPILOT_BENCH=OFF \
      ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher -DCMAKE_C_COMPILER_LAUNCHER=$launcher} \
 && cmake --build build/release --target linkpilot \
 && if [ -n "$launcher" ]; then ccache --show-stats | grep -iE 'hits|misses' || true; fi \
 && strip --strip-debug -o /linkpilot build/release/daemon/linkpilot \
 && /linkpilot version \
 && rm -rf build

# ---- runtime: only the shared libraries `ldd linkpilot` names, CA certificates, tzdata ----
FROM ${RUNTIME_IMAGE} AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libboost-system1.81.0 libboost-container1.81.0 \
      libssl3 libsqlite3-0 libpq5 libyaml-cpp0.7 libspdlog1.10 libfmt9 libre2-9 libdate-tz3 \
      libsystemd0 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 linkpilot \
 && useradd --system --uid 10001 --gid linkpilot --home-dir /var/lib/linkpilot \
      --shell /usr/sbin/nologin linkpilot \
 && install -d -o linkpilot -g linkpilot -m 0700 /var/lib/linkpilot \
 && install -d -m 0755 /etc/linkpilot
COPY --from=build /linkpilot /usr/bin/linkpilot

# Config from a mounted file (/etc/linkpilot/linkpilot.yaml); secrets from mounted files
# (token_file / secret_files; relative paths resolve against $CREDENTIALS_DIRECTORY) or from
# the environment through ${VAR} in the config. The config must listen on 0.0.0.0:8787 (or
# set LINKPILOT_HEALTH_PORT) and keep its state under /var/lib/linkpilot.
ENV CREDENTIALS_DIRECTORY=/run/secrets \
    LINKPILOT_HEALTH_PORT=8787
VOLUME ["/var/lib/linkpilot"]
WORKDIR /var/lib/linkpilot
EXPOSE 8787
USER linkpilot:linkpilot

# No curl in the image: bash's /dev/tcp is enough for one GET /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${LINKPILOT_HEALTH_PORT} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM drains and exits 0 (docker stop); SIGHUP reloads (docker kill -s HUP).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/linkpilot", "serve", "-c", "/etc/linkpilot/linkpilot.yaml"]
