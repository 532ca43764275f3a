# policylens for a server deployment: the ingest and the API talk to a ClickHouse server, so the
# embedded engine (the optional chdb package, ~540 MB) is left out. Node runs the TypeScript sources
# itself (bin/register-ts.js), so there is no build stage. CI tests on this Node major (.ci/run).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY bin ./bin
COPY cli ./cli
COPY collect ./collect
COPY common ./common
COPY events ./events
COPY ingest ./ingest
COPY query ./query
COPY dashboards ./dashboards
COPY warehouse ./warehouse
COPY sources ./sources
USER node
ENTRYPOINT ["node", "bin/policylens.js"]
CMD ["serve"]
