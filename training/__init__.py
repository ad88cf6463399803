"""cxpredict: training."""
