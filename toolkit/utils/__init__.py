"""Shared helpers: config, seeding, logging, errors, espeak-ng binding."""
