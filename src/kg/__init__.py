"""kg: a knowledge graph of bilateral relations, built from source-cited fact files."""

__version__ = "0.1.0"
