"""The settings of the Jira the issues go to (TRIAGE_JIRA_*): the site and its credentials, the project,
issue type, priorities, labels and components, or a Jira Service Management desk; part of Settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

JiraCallKind = Literal["search", "create", "comment", "attachments", "other"]  # tools/jira_pacing.py: kind_of


class JiraSettings(BaseSettings):
    """Where issues go and what they carry; without TRIAGE_JIRA_URL the Jira tools run in dry-run mode.
    workers/settings.py's Settings has these fields."""

    jira_project: str = Field("SUP", description="Jira project key for new issues")
    jira_issue_type: str = Field("Task", description="Jira issue type for new issues")
    jira_priorities: dict[str, str] = Field(
        {"low": "Low", "medium": "Medium", "high": "High"}, description="urgency -> Jira priority (JSON)"
    )
    jira_service_desk: str | None = Field(
        None,
        pattern=r"^[0-9]{1,12}$",
        description="Jira Service Management: the service desk id; issues are raised on behalf of the "
        "customer through its request API (unset: plain Jira issues)",
    )
    jira_request_type: str | None = Field(
        None, pattern=r"^[0-9]{1,12}$", description="with a service desk: the request type id of new requests"
    )
    jira_labels: list[str] = Field(["triage"], description="labels on every issue (JSON list)")
    jira_components: dict[str, str] = Field({}, description="category -> Jira component (JSON), optional")
    jira_url: str | None = Field(None, description="Jira base URL; unset: dry-run mode (outbox file)")
    jira_user: str | None = Field(None, description="Jira user (e-mail for Jira Cloud)")
    jira_api_token: SecretStr | None = Field(None, description="Jira API token or password; never logged")
    jira_timeout_s: float = Field(15.0, gt=0, le=120, description="timeout of each Jira HTTP request")
    jira_rates: dict[JiraCallKind, float] = Field(
        {"search": 10.0, "create": 10.0, "comment": 10.0, "attachments": 5.0, "other": 20.0},
        description="Jira calls a second over the whole fleet, by kind (JSON); a 429 holds off what it names",
    )
    jira_search_lag_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="how long Jira's search may miss a new issue (Cloud indexes late): a retried create "
        "waits this long after an attempt whose answer was lost before searching again and creating",
    )

    @field_validator("jira_rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        if any(rate <= 0 for rate in value.values()):
            raise ValueError("every rate must be over 0 calls a second")
        return value

    @field_validator("jira_labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        bad = [label for label in value if not label or any(ch.isspace() for ch in label)]
        if bad:
            raise ValueError(f"Jira labels cannot be empty or contain spaces: {bad}")
        return value

    @field_validator("jira_priorities")
    @classmethod
    def _all_urgencies(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"low", "medium", "high"} - value.keys()
        if missing:
            raise ValueError(f"needs a priority for {', '.join(sorted(missing))}")
        return value

    @model_validator(mode="after")
    def _jira_credentials(self) -> JiraSettings:
        if self.jira_url is not None:
            given = {
                "jira_user": self.jira_user,
                "jira_api_token": self.jira_api_token and self.jira_api_token.get_secret_value(),
            }
            missing = [name for name, value in given.items() if not value]
            if missing:
                names = ", ".join("TRIAGE_" + m.upper() for m in missing)
                raise ValueError(f"TRIAGE_JIRA_URL is set, so {names} must be too")
        if self.jira_service_desk is not None and self.jira_request_type is None:
            raise ValueError("TRIAGE_JIRA_SERVICE_DESK is set, so TRIAGE_JIRA_REQUEST_TYPE must be too")
        return self
