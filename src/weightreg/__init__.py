"""weightreg: the weight-regularization study as a DVC pipeline, on a population engine."""
