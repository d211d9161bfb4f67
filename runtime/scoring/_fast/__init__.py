"""The scoring layer's fast paths: the output check's "clearly fine" answer (probabilities.py), reached only by
outputs.check_output."""
