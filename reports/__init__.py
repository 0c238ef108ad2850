"""Reads stored results and renders them. Never writes results."""
