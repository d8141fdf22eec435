"""SHACL validation: a fast pre-screen of the shapes, then pySHACL on what it cannot clear."""
