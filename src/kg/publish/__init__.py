"""Publishing what the build wrote: exports, pictures, ontology docs, pushes to a server."""
