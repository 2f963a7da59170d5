# meterd in a container: non-root, the database on a volume, a health check through `meterd health`.
#   docker build -t meterd .
#   docker run -d -p 50051:50051 -v meterd-data:/var/lib/meterd -e METERD_API_KEY=... meterd
# Settings come from METERD_* variables (README: Settings) or a mounted file: -e METERD_CONFIG=/etc/meterd/meterd.yaml.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY client ./client
COPY server ./server
# The server extra: the server and CLI beside the client, with every dependency at the version the lock file
# pins, built here as wheels.
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint requirements.lock ".[server]" \
 && echo "meterd[server]" > /wheels/requirements.txt

FROM python:3.11-slim
RUN groupadd --system --gid 10001 meterd \
 && useradd --system --uid 10001 --gid meterd --home-dir /var/lib/meterd --create-home --shell /usr/sbin/nologin meterd
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels --requirement /wheels/requirements.txt \
 && rm -rf /wheels
USER 10001:10001
WORKDIR /var/lib/meterd
VOLUME ["/var/lib/meterd"]
ENV METERD_LISTEN=0.0.0.0:50051 \
    METERD_DB=/var/lib/meterd/meterd.db \
    METERD_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
# 50051: gRPC; 9464: Prometheus metrics, when METERD_METRICS_LISTEN=0.0.0.0:9464 turns them on.
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["meterd", "health", "--target", "127.0.0.1:50051", "--timeout", "4"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["meterd"]
CMD ["serve"]
