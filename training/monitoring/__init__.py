"""Monitoring the champions without waiting for labels: data drift and label-free performance."""
