"""`kg draft`: a reviewable first draft of a fact file from an article's text.

The stages, one module each: `article` (text or HTML to numbered paragraphs), `nlp` (spaCy's
blank pipelines and phrase matchers), `mentions` (registry entities, titles, candidates),
`dates`, `amounts`, `facts` (trigger rules), `writer` (the YAML draft with its evidence),
`score` (a draft against a curated file). `registry` is the one module that imports the rest
of kg.
"""
