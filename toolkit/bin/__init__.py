"""Command-line entry points: python -m toolkit.bin.<verb> --help."""
