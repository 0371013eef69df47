"""The settings of long-term memory, corrections and incidents (TRIAGE_MEMORY_*, TRIAGE_CORRECTION_*,
TRIAGE_INCIDENT_*), part of Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class MemorySettings(BaseSettings):
    """Memory (Chroma) and the incidents it finds; workers/settings.py's Settings has these fields."""

    memory: Literal["auto", "on", "off"] = Field(
        "auto", description="long-term memory of tickets (Chroma); auto: on wherever it can serve"
    )
    memory_path: Path = Field(Path("var/memory"), description="embedded Chroma folder (one worker each)")
    memory_url: str | None = Field(None, description="a `chroma run` server for a fleet (wins)")
    memory_embedder: Literal["auto", "minilm", "hashed"] = Field("auto", description="auto: minilm if there")
    memory_similar: int = Field(5, ge=1, le=50, description="similar past tickets recalled per ticket")
    memory_history_s: int = Field(30 * 24 * 3600, ge=3600, description="how far back a customer is recalled")
    memory_attempts: int = Field(3, ge=1, le=10, description="recall attempts before planning without memory")
    correction_read_back_s: float = Field(
        300, ge=10, description="with memory and Jira: how often issues people changed are read back"
    )
    incidents: Literal["on", "off"] = Field(
        "on", description="with memory on: like reports of several customers open one problem issue"
    )
    incident_min_reports: int = Field(
        3, ge=2, le=1000, description="distinct customers that make an incident"
    )
    incident_window_s: float = Field(2 * 3600, ge=60, description="within how long their reports arrive")
    incident_similarity: float | None = Field(
        None, gt=0, le=1, description="how alike reports are at least; unset: the embedder's calibrated value"
    )
    incident_link_type: str = Field(
        "Relates", min_length=1, description="Jira issue link type between problem and member issues"
    )
