"""Facts: the fact-file schema and the loading of YAML fact files (stage 1)."""
