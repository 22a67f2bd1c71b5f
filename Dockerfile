# Portal as a container image: `docker build -t portal .` then see deploy/compose.yaml and docs/deploy.md.
# Two stages: the first installs exactly what uv.lock pins (hashes checked) into a virtual environment,
# with whatever a wheel-less package would need to build; the second copies only that environment onto
# a slim Python, without compilers, and runs it as an unprivileged user.

FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/portal \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY requirements-uv.txt ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements-uv.txt

# Dependencies first (cached while only the code changes), then the project itself.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY portal ./portal
COPY README.md ./
RUN uv sync --locked --no-dev --no-editable


FROM python:3.11-slim-bookworm

ENV PATH=/opt/portal/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTAL_DATA_DIR=/var/lib/portal

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /var/lib/portal --shell /usr/sbin/nologin portal \
    && mkdir -p /var/lib/portal \
    && chown portal:portal /var/lib/portal

COPY --from=build /opt/portal /opt/portal

USER portal
WORKDIR /var/lib/portal
EXPOSE 8000
# The API on all interfaces; `portal worker` (see deploy/compose.yaml) runs the background work.
CMD ["portal", "serve", "--host", "0.0.0.0", "--port", "8000"]
