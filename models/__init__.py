"""cxpredict: models."""
