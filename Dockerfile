# syntax=docker/dockerfile:1
# Build stage: the app and its pinned dependencies (constraints.txt) in a virtualenv.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/launchgate
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY models ./models
COPY migrations ./migrations
RUN /opt/launchgate/bin/pip install --no-cache-dir -c constraints.txt .

# Runtime stage: only the finished virtualenv is copied over (no wheels, no compilers, no pip
# cache). Everything under /opt/launchgate and /app belongs to root and is read-only for the
# runtime user; it writes only to /data.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/launchgate/bin:$PATH \
    DATABASE_URL=sqlite:////data/launchgate.db \
    CHECKLISTS_DIR=/app/checklists \
    STAKEHOLDERS_FILE=/app/stakeholders.yaml \
    PORT=3000
RUN groupadd --system --gid 10001 launchgate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin launchgate \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=build /opt/launchgate /opt/launchgate
WORKDIR /app
COPY alembic.ini ./
COPY checklists ./checklists
COPY stakeholders.example.yaml ./stakeholders.yaml
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["launchgate", "serve"]
