"""End-to-end flows, the `cxpredict` CLI and the synthetic company generator."""
