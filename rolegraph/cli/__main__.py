"""`python -m rolegraph.cli`: the `rolegraph` command."""

from rolegraph.cli import main

main()
