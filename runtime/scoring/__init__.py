"""Between the caller's data and the graph: input checks (inputs), columns read by name (frames), and what the
graph's outputs mean per task (outputs)."""
