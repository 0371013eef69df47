"""Measuring triage quality: categorization and entity extraction against labelled data."""
