"""SPARQL below the stages that use it: every text parsed and refused before it runs (guard),
parameters put in place (text), and a text run on an Oxigraph store (store)."""
