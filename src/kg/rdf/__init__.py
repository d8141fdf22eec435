"""RDF at the lowest level: the project's namespaces, terms as N-Triples, Turtle folders."""
