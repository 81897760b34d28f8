# syntax=docker/dockerfile:1
# entrasync as a container image: `docker build -t entrasync .`, then
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/var/lib/entrasync" entrasync validate -c entrasync.yaml
# Four stages on one Node LTS slim base (22: Node 20 reached its end of life in April 2026;
# `--build-arg NODE_IMAGE=…` picks another):
# - toolchain: python3, make and g++ for better-sqlite3, the one native module (compiled here
#   from source against this image's own Node headers, so no prebuilt binary is downloaded);
# - build: every dependency, `npm run build` (TypeScript -> dist/);
# - prod-deps: production dependencies only (`npm ci --omit=dev`), better-sqlite3 compiled;
# - runtime: node_modules from prod-deps, dist/ and the schema from build, nothing else: no
#   compiler, no dev dependencies, no sources, no secrets (credentials come at run time from
#   `${env:…}`/`${file:…}` references and the federated token file), a numeric non-root user.
# `npm ci --ignore-scripts` everywhere: the root `prepare` script would run `tsc` before the
# sources are copied; better-sqlite3's own install script (the only dependency with one) is
# then run explicitly by `npm rebuild better-sqlite3`.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./

FROM toolchain AS build
# Only `tsc` runs here: better-sqlite3 need not be compiled in this stage.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY engine ./engine
COPY config ./config
COPY connectors ./connectors
COPY simulator ./simulator
COPY cli ./cli
RUN npm run build

FROM toolchain AS prod-deps
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# uid/gid 10001: numeric, so Kubernetes can check `runAsNonRoot` against the image itself.
RUN groupadd --system --gid 10001 entrasync \
  && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/entrasync \
       --shell /usr/sbin/nologin entrasync \
  && mkdir -p /var/lib/entrasync/.entrasync \
  && chown -R 10001:10001 /var/lib/entrasync
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json entrasync.schema.json ./
# The working directory holds the config and, beside it, `.entrasync/` (apply journal and lock,
# history, simulator state): the only place entrasync writes, so the root filesystem can be
# read-only. Mount the config there, or pass `-c /path/to/entrasync.yaml` of a writable folder.
WORKDIR /var/lib/entrasync
VOLUME ["/var/lib/entrasync"]
USER 10001:10001
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
