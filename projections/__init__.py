"""The read side of the diplomacy ledger: read models rebuilt from the event log alone."""
