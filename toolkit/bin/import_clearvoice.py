"""Import a released ClearerVoice-Studio MossFormer2 separation checkpoint as a toolkit model dir.

    python -m toolkit.bin.import_clearvoice --network MossFormer2_SS_16K --checkpoint FILE --out_dir DIR

FILE is ClearerVoice's checkpoint (a dict whose 'model' entry is the state dict, or a bare
state dict; a DDP 'module.' prefix is removed). Every key and shape is checked against the
network; the constant position tables (rotary `freqs`, sinusoidal `inv_freq`) are filled
in when a file lacks them. Writes DIR/config.yaml (task sep, separator mossformer2, its
separator_conf, fs, num_spks) and DIR/model.pth (the sep model's state dict), ready for
toolkit.bin.sep_inference --model_dir DIR or fine-tuning.
"""
import logging
import os

from toolkit.models.sep.mossformer2 import MossFormer2
from toolkit.models.sep.mossformer2_configs import MOSSFORMER2_CONFIGS, network_kwargs
from toolkit.train.checkpoint import extract_model_state, load_checkpoint, save_checkpoint
from toolkit.utils.config import get_parser, parse_args, save_config
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

_CONSTANTS = ("freqs", "inv_freq")  # computed from the config, not learned
_SHOWN = 8


def build_parser():
    parser = get_parser(__doc__)
    parser.add_argument("--network", required=True, choices=sorted(MOSSFORMER2_CONFIGS), help="released network")
    parser.add_argument("--checkpoint", required=True, help="ClearerVoice checkpoint file")
    parser.add_argument("--out_dir", required=True, help="model dir to write (config.yaml, model.pth)")
    return parser


def _listed(keys):
    keys = sorted(keys)
    more = f" ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def checked_state(state, model, path, network):
    """`state` with 'module.' removed and constants filled in; DataError listing every mismatch."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    filled = [k for k in missing if k.rsplit(".", 1)[-1] in _CONSTANTS]
    missing = [k for k in missing if k not in filled]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: file {tuple(state[k].shape)}, network {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        problems = [f"{len(missing)} missing keys: {_listed(missing)}" if missing else "",
                    f"{len(unexpected)} unexpected keys: {_listed(unexpected)}" if unexpected else "",
                    f"{len(shapes)} shape mismatches: {'; '.join(shapes[:_SHOWN])}" if shapes else ""]
        raise DataError(f"checkpoint {path} does not match {network}: " + "; ".join(p for p in problems if p)
                        + f". Is it a {network} separation checkpoint (see --network)?")
    if filled:
        logging.info("%s: %d constant position tables not in the file, computed from the config", path, len(filled))
    return {**state, **{k: expected[k] for k in filled}}


@cli_main
def main(argv=None):
    args = parse_args(build_parser(), argv)
    setup_logging()
    conf, fs = network_kwargs(args.network)
    model = MossFormer2(**conf)
    state = extract_model_state(load_checkpoint(args.checkpoint), args.checkpoint)
    model.load_state_dict(checked_state(state, model, args.checkpoint, args.network))
    os.makedirs(args.out_dir, exist_ok=True)
    save_checkpoint(os.path.join(args.out_dir, "model.pth"),
                    {f"separator.{k}": v for k, v in model.state_dict().items()})
    save_config({"task": "sep", "separator": "mossformer2", "separator_conf": conf, "fs": fs,
                 "num_spks": conf["num_spks"]}, os.path.join(args.out_dir, "config.yaml"))
    print(f"import_clearvoice: {args.network} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters, "
          f"{fs} Hz) -> {args.out_dir}/config.yaml, model.pth")


if __name__ == "__main__":
    main()
