"""`python -m edge_predict.cli`: the edge-predict command."""

from . import main

main()
