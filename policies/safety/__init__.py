"""Built-in safety data sets for ``augment`` (safety mixing): see ``README.md``."""
