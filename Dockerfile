# batch-infer: one image for the model server (default: `serve`) and batch jobs (`run …`).
# Build: buildah bud --format docker -t batch-infer .   (or docker build -t batch-infer .)

# --- build: compile TypeScript ---------------------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA files; the CPU binaries ship inside the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY lib lib
COPY server server
COPY testing testing
COPY bin bin
RUN npm run build

# --- deps: production dependencies only, onnxruntime binaries for linux/x64 only ---------------------------
FROM node:22-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 ! -path '*/linux/x64' -exec rm -rf {} + \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32 \
 && npm cache clean --force

# --- runtime -----------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="batch-infer" \
      org.opencontainers.image.description="Streaming batch inference and an Open Inference Protocol model server for ONNX models" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/batch-infer/batch-infer" \
      org.opencontainers.image.licenses="MIT"
# No ENV PORT: `serve` defaults to 8080 and reads PORT, AIP_HTTP_PORT or SAGEMAKER_BIND_TO_PORT, so a port the
# platform assigns is never shadowed by one baked into the image.
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json README.md CHANGELOG.md ./
COPY models models
COPY data/weather.csv data/README.md data/
RUN chmod 0755 dist/bin/batch-infer.js && ln -s /app/dist/bin/batch-infer.js /usr/local/bin/batch-infer
# The CLI handles SIGTERM and SIGINT itself (drain, then exit), so it can run as PID 1 without an init.
USER node
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const e=process.env;fetch('http://127.0.0.1:'+(e.BATCH_INFER_PORT||e.PORT||e.AIP_HTTP_PORT||e.SAGEMAKER_BIND_TO_PORT||8080)+'/v2/health/ready').then(r=>{process.exitCode=r.ok?0:1},()=>{process.exitCode=1})"]
ENTRYPOINT ["batch-infer"]
CMD ["serve"]
