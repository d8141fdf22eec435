"""`python -m kg.draft`: the `kg draft` command without loading the rest of kg's commands."""

from kg.draft.command import draft

draft(prog_name="kg draft")
