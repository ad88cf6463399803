"""Model code: text encoder and heads, tabular models, calibration, reason codes, the packaged predictor."""
