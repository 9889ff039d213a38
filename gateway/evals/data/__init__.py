"""Built-in evaluation sets (JSONL) and the script that rebuilds them from ../shared/data."""
