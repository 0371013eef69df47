"""The review console: server-rendered pages and a JSON API where people work the review queue, dead
letters and quarantine, and read runs and incidents (`triage console`)."""
