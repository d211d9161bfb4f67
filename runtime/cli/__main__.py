"""`python -m edge_predict.cli`: the edge-predict command."""

from edge_predict.cli import main

main()
