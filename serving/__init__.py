"""cxpredict: serving."""
