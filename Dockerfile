# Home Assistant add-on image. The Supervisor builds it with BUILD_FROM from build.yaml; the default below
# is the same pinned amd64 base for a manual `docker build`. Both stages use the same Alpine base, so the
# native sqlite3 module is compiled against the very musl and Node.js that run it.
ARG BUILD_FROM=ghcr.io/home-assistant/amd64-base:3.20

# ---- build: compile TypeScript and the native sqlite3 module, then keep production dependencies only ----
FROM ${BUILD_FROM} AS build

RUN apk add --no-cache nodejs nodejs-dev npm python3 make g++

WORKDIR /build

# Build sqlite3 from the SQLite sources bundled in its npm package, against Alpine's Node.js headers:
# nothing is downloaded besides packages (no prebuilt binary, no header tarball).
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr \
    npm_config_audit=false \
    npm_config_fund=false

COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
    && npm prune --omit=dev

# ---- runtime ----
FROM ${BUILD_FROM}

# sqlite provides the sqlite3 CLI used by /usr/local/bin/oauth-backup (hot backup snapshots).
RUN apk add --no-cache nodejs sqlite

WORKDIR /app
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist

# s6-overlay v3 service (oauth-server), the backup helper, and the start script the service execs.
COPY rootfs /
COPY run.sh /run.sh

# The Supervisor restarts an unhealthy add-on when its watchdog is on; /health also checks the database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl --fail --silent --show-error --max-time 4 http://127.0.0.1:8096/health > /dev/null || exit 1

ARG BUILD_ARCH=amd64
ARG BUILD_DATE
ARG BUILD_REF
ARG BUILD_VERSION=1.0.0

LABEL \
    io.hass.name="Music Assistant Alexa OAuth" \
    io.hass.description="OAuth 2.0 server that links an Amazon Alexa skill with Music Assistant" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.type="addon" \
    io.hass.version="${BUILD_VERSION}" \
    org.opencontainers.image.title="Music Assistant Alexa OAuth" \
    org.opencontainers.image.description="OAuth 2.0 server that links an Amazon Alexa skill with Music Assistant" \
    org.opencontainers.image.version="${BUILD_VERSION}" \
    org.opencontainers.image.created="${BUILD_DATE}" \
    org.opencontainers.image.revision="${BUILD_REF}" \
    org.opencontainers.image.source="https://github.com/music-assistant-alexa-oauth/music-assistant-alexa-oauth" \
    org.opencontainers.image.licenses="MIT"
