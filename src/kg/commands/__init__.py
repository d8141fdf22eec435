"""The `kg` commands, one module each, loaded only when called (see kg.cli)."""
