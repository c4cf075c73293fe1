"""One module per CLI command; each exposes ``command`` (registered in :mod:`streamseg.cli`)."""
