"""The dashboard at `/ui`: pages and assets served by the service, and the data behind them."""
