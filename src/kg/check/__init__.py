"""`kg check`: the shapes, the rules across facts, ontology hygiene and OWL reasoning (stage 3)."""
