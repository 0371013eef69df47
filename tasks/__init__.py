"""The pipeline stages as Celery tasks: thin wrappers that load state, call the core, save, enqueue."""
