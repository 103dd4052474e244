"""The write side of the diplomacy ledger: what happened, and the rules for recording it."""
