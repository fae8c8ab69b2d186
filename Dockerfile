# ofb-edge. The build stage compiles the TypeScript (src and conformance); the runtime image holds the production
# dependencies, the compiled code and the files it reads, and runs as uid 1000 (the node image's `node` user), never
# as root. test/deploy/container-layout.test.ts builds the runtime stage's layout from this file and runs it as that
# user: keep every RUN step of the runtime stage one the test knows.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY conformance ./conformance
# npm ci runs the package's `prepare` script: tsc -p tsconfig.build.json writes dist/src and dist/conformance.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
# The embedded default (the default command) binds 0.0.0.0 in the container, so that `docker run -p 8443:8443`
# reaches it; on bare metal it keeps 127.0.0.1.
ENV NODE_ENV=production OFB_EDGE_EMBEDDED_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY examples ./examples
COPY profiles ./profiles
COPY schema ./schema
COPY conformance ./conformance
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/conformance ./dist/conformance
# The only places the image's own commands write: the embedded default's test PKI and token (OFB_EDGE_STATE_DIR
# .ofb-edge), and the conformance reports. `serve --config` writes nothing (Kubernetes: readOnlyRootFilesystem).
RUN mkdir -p /app/.ofb-edge /app/reports && chown 1000:1000 /app/.ofb-edge /app/reports
# Numeric, so that Kubernetes' runAsNonRoot can verify it without a runAsUser.
USER 1000:1000
EXPOSE 8443 9090
# The admin listener's /healthz (9090, or OFB_EDGE_ADMIN_PORT), asked with node: the image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.OFB_EDGE_ADMIN_PORT || 9090) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/ofb-edge.js"]
CMD ["serve"]
