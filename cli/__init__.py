"""The top floor: the `triage` command. It builds the runtime and hands it to the rooms below."""
