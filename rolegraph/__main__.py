"""`python -m rolegraph`: the `rolegraph` command."""

from rolegraph.cli import main

main()
