# One image for every worker role; docker-compose.yml picks the role per service.
# The image installs the wheel (what `pip install` of a release gets), with the versions CI proved.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps -w /dist .

FROM python:3.11-slim
WORKDIR /app
COPY constraints.txt /tmp/constraints.txt
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl && useradd --create-home triage \
    && install -d -o triage -m 700 /home/triage/console
# `docker build --build-arg EMBEDDINGS=1 .` adds the embeddings classifier (PyTorch's CPU build, ~1 GB).
ARG EMBEDDINGS=""
RUN if [ -n "$EMBEDDINGS" ]; then \
      pip install --no-cache-dir -c /tmp/constraints.txt torch --index-url https://download.pytorch.org/whl/cpu \
      && pip install --no-cache-dir -c /tmp/constraints.txt "$(ls /tmp/dist/*.whl)[embeddings]"; \
    fi
# `--build-arg REDACT=1` adds Presidio, which TRIAGE_LLM_REDACT=on needs (spaCy, ~150 MB).
ARG REDACT=""
RUN if [ -n "$REDACT" ]; then \
      pip install --no-cache-dir -c /tmp/constraints.txt "$(ls /tmp/dist/*.whl)[redact]"; \
    fi
USER triage
ENTRYPOINT ["triage"]
CMD ["worker", "--role", "all"]
