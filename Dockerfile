# syntax=docker/dockerfile:1
# Joinery Join Server. Multi-stage: build with the compilers native modules need
# (better-sqlite3, pkcs11js), run as an unprivileged user on a slim image.
#   docker build -t joinery .
#   docker run -v joinery-data:/var/lib/joinery -p 8003:8003 -p 127.0.0.1:8090:8090 joinery
# See docs/install.md. test/src/ops/docker-image-layout.test.ts lays out what this file copies
# (production dependencies only) in a directory and runs ns add with every adapter, serve, the
# console and a simulated join there; no Docker daemon runs the image itself in the test suite.

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifests first: the dependency layer is rebuilt only when they change. Every workspace's
# package.json must be present for `npm ci` (the lock file lists them all).
COPY package.json package-lock.json tsconfig.base.json tsconfig.json lerna.json ./
COPY core/package.json core/
COPY console/package.json console/
COPY test/package.json test/
COPY bench/package.json bench/
COPY adapters/ adapters/
COPY examples/ examples/
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3 pkcs11js
COPY core/ core/
COPY console/ console/
# The core and every network server adapter (loaded at run time by ns add, ns sync, migrate).
RUN npx tsc -b core adapters/* \
 && npm run build -w @joinery/console \
 && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    JOINERY_DATA_DIR=/var/lib/joinery \
    JOINERY_BI_LISTEN=0.0.0.0:8003 \
    JOINERY_ADMIN_LISTEN=0.0.0.0:8090 \
    JOINERY_LOG_FORMAT=json
RUN groupadd --system --gid 10001 joinery \
 && useradd --system --uid 10001 --gid joinery --home-dir /var/lib/joinery --shell /usr/sbin/nologin joinery \
 && mkdir -p /var/lib/joinery /etc/joinery \
 && chown joinery:joinery /var/lib/joinery \
 && chmod 0700 /var/lib/joinery
WORKDIR /app
# Code and dependencies are owned by root and read-only to the service user.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/core/package.json ./core/package.json
COPY --from=build /src/core/bin ./core/bin
COPY --from=build /src/core/dist ./core/dist
# The network server adapters: node_modules/@joinery/adapter-* link to them.
COPY --from=build /src/adapters/chirpstack/package.json ./adapters/chirpstack/package.json
COPY --from=build /src/adapters/chirpstack/dist ./adapters/chirpstack/dist
COPY --from=build /src/adapters/the-things-stack/package.json ./adapters/the-things-stack/package.json
COPY --from=build /src/adapters/the-things-stack/dist ./adapters/the-things-stack/dist
COPY --from=build /src/adapters/actility/package.json ./adapters/actility/package.json
COPY --from=build /src/adapters/actility/dist ./adapters/actility/dist
COPY --from=build /src/adapters/loriot/package.json ./adapters/loriot/package.json
COPY --from=build /src/adapters/loriot/dist ./adapters/loriot/dist
COPY --from=build /src/adapters/orbiwise/package.json ./adapters/orbiwise/package.json
COPY --from=build /src/adapters/orbiwise/dist ./adapters/orbiwise/dist
# The web console's built files (served by the admin listener at /).
COPY --from=build /src/console/package.json ./console/package.json
COPY --from=build /src/console/dist ./console/dist
USER joinery
# The data directory holds master.key (every root key is sealed under it), the CA and, with
# the default store, the SQLite database: keep it on a volume and back it up.
VOLUME ["/var/lib/joinery"]
# 8003: Backend Interfaces (HTTPS, mutual TLS) for network servers.
# 8090: admin (plain HTTP: the web console at /, /healthz, /readyz, /metrics; without an API
# key only those and /api/v1/openapi.json answer): publish it on a private address only.
EXPOSE 8003 8090
# /healthz: the process is up (use /readyz, store and vault reachable, for a load balancer).
# Assumes the admin listener's port 8090; change both together.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:8090/healthz', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "/app/core/dist/cli/main.js"]
CMD ["serve"]
