# The Home Assistant app (add-on) image. The Dockerfile is the whole build recipe (there is no build.yaml):
# .github/workflows/build.yaml builds it per architecture with home-assistant/builder's actions and publishes the
# multi-arch image that config.yaml's `image:` names; `docker build .` builds the same image locally.
#
# Every stage starts from the same multi-arch Home Assistant base (Alpine 3.24 with s6-overlay v3, bashio, curl).
# Alpine 3.24's `nodejs` package is Node.js 24, the version package.json's engines asks for and the tests run on;
# `nodejs~24` (apk's prefix match) makes the build fail rather than ship another major. The server has no native
# module (SQLite is Node's built-in node:sqlite), so no stage installs a compiler or build tool.
# Tests: tests/addon/image.test.ts checks this file; tests/addon/production-install.test.ts makes the same
# production install and runs a link through it.

# ---- production dependencies: exactly the lock's, without devDependencies ----
FROM ghcr.io/home-assistant/base:3.24 AS deps

RUN apk add --no-cache nodejs~24 npm

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# ---- build: TypeScript to dist/, with the dev dependencies (their install scripts are not needed to compile) ----
# `npm run build` compiles with tsc, then esbuild bundles the server into the one file dist/main.js, so a start
# loads one file instead of some 300 modules; the CLI (dist/cli/) still loads its modules from node_modules.
FROM ghcr.io/home-assistant/base:3.24 AS build

RUN apk add --no-cache nodejs~24 npm

WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: Node.js, the compiled server, its production dependencies, the s6 service ----
FROM ghcr.io/home-assistant/base:3.24

RUN apk add --no-cache nodejs~24

ENV NODE_ENV=production

WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /build/dist ./dist

# s6-overlay v3 service (oauth-server), the backup hook and the admin CLI, and the start script the service execs.
COPY rootfs /
COPY run.sh /run.sh

# /health also checks the database; an unhealthy add-on is restarted by the Supervisor when its watchdog is on.
# --start-interval probes every 2 s while the server starts, so the add-on reports healthy within seconds.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=2s --retries=3 \
    CMD curl --fail --silent --show-error --max-time 4 --output /dev/null http://127.0.0.1:8096/health || exit 1

# The build-image action and the Supervisor's local build pass both; io.hass.version is the version the Supervisor
# reads back from the installed image, so the default follows config.yaml's version.
ARG BUILD_ARCH
ARG BUILD_VERSION=1.1.0

LABEL \
    io.hass.type="app" \
    io.hass.name="Music Assistant Alexa OAuth" \
    io.hass.description="OAuth 2.0 server that links an Amazon Alexa skill with Music Assistant" \
    io.hass.url="https://github.com/music-assistant-alexa-oauth/music-assistant-alexa-oauth" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.version="${BUILD_VERSION}" \
    org.opencontainers.image.title="Music Assistant Alexa OAuth" \
    org.opencontainers.image.description="OAuth 2.0 server that links an Amazon Alexa skill with Music Assistant" \
    org.opencontainers.image.version="${BUILD_VERSION}" \
    org.opencontainers.image.source="https://github.com/music-assistant-alexa-oauth/music-assistant-alexa-oauth" \
    org.opencontainers.image.licenses="MIT"
