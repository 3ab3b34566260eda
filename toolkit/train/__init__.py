"""Training: optimizers, learning-rate schedulers, trainer, checkpoints and reporting."""
