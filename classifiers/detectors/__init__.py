"""Dataset-level detectors: findings that only show across many rows of a file."""
