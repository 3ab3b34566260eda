"""Load a trained model from its experiment dir: config.yaml (the task's options) + a weights file."""
import argparse
import os

from toolkit.tasks import get_task
from toolkit.train.checkpoint import extract_model_state, load_checkpoint
from toolkit.utils.config import load_config
from toolkit.utils.errors import ConfigError


def load_experiment(exp_dir, checkpoint, device="cpu"):
    """(model in eval mode, its resolved config as a Namespace) from a training output dir."""
    config_path = os.path.join(exp_dir, "config.yaml")
    if not os.path.isfile(config_path):
        raise ConfigError(f"{config_path}: missing; is {exp_dir} a training output dir?")
    args = argparse.Namespace(**load_config(config_path))
    model = get_task(args.task).build_model(args)
    path = os.path.join(exp_dir, checkpoint)
    model.load_state_dict(extract_model_state(load_checkpoint(path), path))
    return model.to(device).eval(), args
