"""The Celery app, settings, queues, the CLI and worker start-up."""
