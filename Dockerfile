# heroku-otel-drain in a container, for running it outside Heroku (syslog drains need a public
# TCP port, which a dyno does not have). The sources are TypeScript run by Node's type
# stripping: no build step, production dependencies only.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY src ./src
USER node
EXPOSE 8080
# The embedded default reads PORT, DRAIN_TOKENS, DRAIN_BASIC_AUTH and OTEL_*; or mount a config
# and add: --config /etc/heroku-otel-drain/config.yaml. --max-semi-space-size=8 as in the Procfile.
CMD ["node", "--max-semi-space-size=8", "bin/heroku-otel-drain.js", "start"]
