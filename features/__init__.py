"""cxpredict: features."""
