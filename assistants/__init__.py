"""The system for assistants: its reads, its review actions and its judgement tools over the Model
Context Protocol (`triage mcp`), with the console's tokens and roles."""
