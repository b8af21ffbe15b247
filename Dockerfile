# syntax=docker/dockerfile:1
# Build stage: wheels for the app and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY models ./models
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: no compilers, non-root user, data under /data.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/launchgate.db \
    CHECKLISTS_DIR=/app/checklists \
    STAKEHOLDERS_FILE=/app/stakeholders.yaml \
    PORT=3000
RUN groupadd --system --gid 10001 launchgate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin launchgate \
    && mkdir -p /data /app \
    && chown 10001:10001 /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=10001:10001 alembic.ini ./
COPY --chown=10001:10001 checklists ./checklists
COPY --chown=10001:10001 stakeholders.example.yaml ./stakeholders.yaml
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["launchgate", "serve"]
