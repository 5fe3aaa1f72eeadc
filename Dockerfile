# The hub as a container image: `docker build -t handoff-hub .` then `docker run --rm handoff-hub`
# runs the demo; a docker work pool runs the deployed flows in it (hub deploy --work-pool-type docker).
# The wheel is built from this checkout in a first stage, so the image holds only the installed package.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY handoff_hub handoff_hub
COPY hub hub
COPY connectors connectors
COPY flows flows
COPY sandboxes sandboxes
COPY mappings mappings
COPY examples examples
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim
COPY --from=build /dist /dist
# postgres: the state store several workers share (store.url: postgresql+psycopg://...).
RUN pip install --no-cache-dir "$(ls /dist/handoff_hub-*.whl)[postgres]" && rm -rf /dist \
    && useradd --create-home hub
USER hub
WORKDIR /home/hub
ENV PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_HOME=/home/hub/.prefect
CMD ["hub", "demo"]
