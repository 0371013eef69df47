"""What the tools know of incidents: an incident, its members, and the register that keeps them.

agent/store/incidents.py implements the register in Redis; the tools never import it (tools/ sits below
agent/). The register is the one judge of membership: a ticket belongs to at most one incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field


class Member(BaseModel):
    """A ticket in an incident: its customer and their own issue, which gets linked to the problem."""

    ticket_id: str
    sender: str
    issue_key: str | None = None
    joined_at: datetime
    linked: bool = Field(False, description="its issue is linked to the problem issue")


class Incident(BaseModel):
    """One outage reported by several customers, with the problem issue that gathers their issues."""

    id: str
    title: str = Field(description="the subject of the report that opened it")
    opened_at: datetime
    problem_key: str | None = Field(None, description="the problem issue, once it exists")
    members: list[Member] = Field(default_factory=list)

    @property
    def last_report_at(self) -> datetime:
        """When its latest member arrived (an incident is open while that is within the window)."""
        return max((m.joined_at for m in self.members), default=self.opened_at)


class IncidentRegister(Protocol):
    """The incidents and their members (agent/store/incidents.py implements it)."""

    def incident_of(self, ticket_id: str) -> str | None:
        """The id of the incident the ticket belongs to, or None."""
        ...

    def get(self, incident_id: str, members: bool = True) -> Incident | None:
        """The incident, with its members unless `members` is False (a big outage has thousands), or None."""
        ...

    def unlinked(self, incident_id: str) -> list[Member]:
        """The members whose issue is not linked to the problem issue yet (a page at most)."""
        ...

    def open_or_join(
        self, incident: Incident, candidates: list[Member], min_reports: int, quorum: int
    ) -> str | None:
        """Atomically: the incident `candidates[0]` (this ticket) belongs to, if any; else, of the
        incidents that at least `quorum` other candidates belong to, the one opened first, which this
        ticket joins and the others are merged into (see `merged`); else, when the candidates in no
        incident come from at least `min_reports` distinct mailboxes (tools/mail_out.py: mailbox_of) of
        two domains at least, `incident` opened with them as members. Return the incident's id, or None
        when there is none (yet)."""
        ...

    def merged(self, incident_id: str) -> list[str]:
        """The incidents merged into this one whose problem issue is not linked to its own yet."""
        ...

    def note_merge_linked(self, incident_id: str, merged_id: str) -> None:
        """Record that a merged incident's problem issue is linked to this one's (or it had none)."""
        ...

    def note_problem(self, incident_id: str, problem_key: str) -> None:
        """Record the incident's problem issue."""
        ...

    def note_linked(self, incident_id: str, ticket_id: str, issue_key: str) -> None:
        """Record that the member's issue is linked to the problem issue."""
        ...
