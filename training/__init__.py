"""Training sets to fitted, evaluated, reported and registered models, behind a promotion gate."""
