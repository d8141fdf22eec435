"""The build: facts -> triples, cached per file, validated, written to the store (stage 2)."""
