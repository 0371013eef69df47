"""Mail sources and MIME -> Ticket parsing. No Celery here."""
