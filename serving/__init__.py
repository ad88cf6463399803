"""The real-time service: scores with reasons, events, rules, actions, keys and the dashboard."""
