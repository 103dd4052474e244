"""`ledger serve`: the ledger on the web, a sibling of cli.py over the same Python API."""
