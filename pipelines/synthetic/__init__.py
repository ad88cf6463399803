"""The synthetic company generator: a seeded, vectorised company with known ground truth."""

from pipelines.synthetic.company import generate_company

__all__ = ["generate_company"]
