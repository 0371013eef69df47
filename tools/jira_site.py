"""The Jira settings checked against the site: the project, issue type, priorities and components
(tools/jira_client.py), and with a service desk its request type (tools/jira_service_desk.py)."""

from __future__ import annotations

from tools.base import ToolConfig
from tools.jira_client import check_jira
from tools.jira_service_desk import check_service_desk


def check_site(config: ToolConfig) -> list[str]:
    """What the site says is wrong with the Jira settings (empty when all is well); JiraUnreachable
    when it does not answer."""
    problems = check_jira(config)
    if config.jira_service_desk is not None and not problems:
        problems += check_service_desk(config)
    return problems
