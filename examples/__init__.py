"""Sample data the demo runs: the mailbox in mailbox/ (a Maildir). Installed as `triage_examples`."""
