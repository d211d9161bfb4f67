"""Tables of samples as text: the number grammar, reading rows (reader, source), scoring them in batches (stream)
and writing the outputs (writer). The block path in _fast/ is an optimisation of the line path; tests prove they
agree."""
