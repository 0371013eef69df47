"""The engine-agnostic core: plans, references, planners, runs and the run store. No Celery here."""
