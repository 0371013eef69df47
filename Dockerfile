# One image for every worker role; docker-compose.yml picks the role per service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY workers ./workers
COPY tasks ./tasks
COPY tools ./tools
COPY monitoring ./monitoring
COPY inbox ./inbox
COPY agent ./agent
COPY bench ./bench
COPY evaluation ./evaluation
COPY examples ./examples
RUN pip install --no-cache-dir . && useradd --create-home triage
# `docker build --build-arg EMBEDDINGS=1 .` adds the embeddings classifier (PyTorch's CPU build, ~1 GB).
ARG EMBEDDINGS=""
RUN if [ -n "$EMBEDDINGS" ]; then \
      pip install --no-cache-dir torch --index-url https://download.pytorch.org/whl/cpu \
      && pip install --no-cache-dir ".[embeddings]"; \
    fi
USER triage
ENTRYPOINT ["triage"]
CMD ["worker", "--role", "all"]
