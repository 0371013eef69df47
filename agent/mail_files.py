"""The files attached to a ticket's mail, read again from the raw copy the store keeps (the tools'
MailFiles port): only the ones judged fit for the issue at ingest, and only from the ticket's own mail."""

from __future__ import annotations

from agent.store import RunStore
from inbox.attachments import FileLimits
from inbox.parse import attachable_files


class StoredMail:
    """A ticket's attachable files, from the delivery that made the ticket."""

    def __init__(self, store: RunStore, limits: FileLimits) -> None:
        self.store, self.limits = store, limits

    def files_of(self, ticket_id: str) -> tuple[list[tuple[str, str, bytes]], int] | None:
        """(name, content type, bytes) of the files that may go to the issue, and how many may not; None
        when the ticket's own raw mail is gone (expired, erased) or cannot be told apart from another's."""
        run = self.store.runs.get(ticket_id)
        if run is None:
            return None
        delivery_id = self.store.deliveries.message_owner(run.ticket.message_id)
        delivery = self.store.deliveries.get(delivery_id) if delivery_id else None
        if delivery is None or delivery.run_id != ticket_id:  # a reused Message-ID: not this ticket's bytes
            return None
        raw = self.store.deliveries.raw(delivery.delivery_id)
        if raw is None:
            return None
        fit, left_out = attachable_files(raw, self.limits)
        return [(f.name, f.content_type, f.data) for f in fit], left_out
