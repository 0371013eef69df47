"""The Tool contract, the catalog and the built-in tools. No Celery here."""
