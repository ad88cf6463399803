"""Population estimates over scored customers: respondents only, model-based and corrected."""
