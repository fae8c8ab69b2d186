# ofb-edge: build stage compiles TypeScript; the runtime image holds production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY examples ./examples
COPY profiles ./profiles
COPY --from=build /app/dist/src ./dist/src
# The embedded default keeps its generated test PKI here (OFB_EDGE_STATE_DIR).
RUN mkdir -p /app/.ofb-edge && chown node:node /app/.ofb-edge
USER node
EXPOSE 8443
ENTRYPOINT ["node", "bin/ofb-edge.js"]
CMD ["serve"]
