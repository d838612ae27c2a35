"""The model and the rules, as records and plain functions (no I/O)."""
