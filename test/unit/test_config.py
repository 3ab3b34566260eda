"""Config resolution: code default < yaml (--config) < command line."""
import argparse
import pathlib

import pytest
import yaml

from toolkit.utils.config import (add_dict_option, get_parser, int_or_none, load_config,
                                  parse_args, save_config, str2bool, str_or_none, to_yaml)
from toolkit.utils.errors import ConfigError


def make_parser():
    parser = get_parser("test")
    parser.add_argument("--max_epoch", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--use_amp", type=str2bool, default=False)
    parser.add_argument("--token_type", choices=["char", "bpe"], default="char")
    parser.add_argument("--init", type=str_or_none, default="xavier")
    parser.add_argument("--exp_dir", type=pathlib.Path, default=pathlib.Path("exp"))
    add_dict_option(parser, "encoder_conf", default={"output_size": 256, "dropout": 0.1})
    return parser


def write(tmp_path, text, name="conf.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


ENCODER_YAML = """\
max_epoch: 20
encoder_conf:
  output_size: 512
  num_blocks: 12
  attention: {heads: 4, dropout: 0.0}
"""


def test_code_defaults_without_config():
    args = parse_args(make_parser(), [])
    assert args.max_epoch == 10
    assert args.lr == 0.1
    assert args.exp_dir == pathlib.Path("exp")
    assert args.encoder_conf == {"output_size": 256, "dropout": 0.1}


def test_yaml_overrides_default_and_command_line_overrides_yaml(tmp_path):
    path = write(tmp_path, "max_epoch: 20\nlr: 0.5\nuse_amp: yes\n")
    args = parse_args(make_parser(), ["--config", path, "--lr", "0.01"])
    assert args.max_epoch == 20  # yaml over default
    assert args.lr == 0.01  # command line over yaml
    assert args.use_amp is True
    assert args.config == path


def test_command_line_wins_whatever_its_position(tmp_path):
    path = write(tmp_path, "max_epoch: 20\n")
    assert parse_args(make_parser(), ["--max_epoch", "3", f"--config={path}"]).max_epoch == 3


def test_yaml_strings_go_through_the_option_type(tmp_path):
    path = write(tmp_path, "lr: 1e-3\ninit: none\nexp_dir: exp/a\nuse_amp: 'no'\n")
    args = parse_args(make_parser(), ["--config", path])
    assert args.lr == pytest.approx(1e-3)  # plain PyYAML would give the string '1e-3'
    assert args.init is None
    assert args.exp_dir == pathlib.Path("exp/a")
    assert args.use_amp is False


def test_unknown_yaml_key_names_key_and_file(tmp_path):
    path = write(tmp_path, "max_epoch: 20\nmax_epok: 3\nbogus_key: 1\n")
    with pytest.raises(ConfigError) as err:
        parse_args(make_parser(), ["--config", path])
    message = str(err.value)
    assert "max_epok" in message and "bogus_key" in message and path in message
    assert "did you mean 'max_epoch'" in message


def test_meta_options_are_not_yaml_keys(tmp_path):
    path = write(tmp_path, "print_config: true\n")
    with pytest.raises(ConfigError, match="print_config"):
        parse_args(make_parser(), ["--config", path])


def test_bad_yaml_value_names_key_and_file(tmp_path):
    path = write(tmp_path, "token_type: bpe2\n")
    with pytest.raises(ConfigError, match=r"token_type.*bpe2.*char"):
        parse_args(make_parser(), ["--config", path])
    path = write(tmp_path, "max_epoch: ten\n")
    with pytest.raises(ConfigError, match="max_epoch") as err:
        parse_args(make_parser(), ["--config", path])
    assert path in str(err.value)
    path = write(tmp_path, "encoder_conf: [1, 2]\n")
    with pytest.raises(ConfigError, match="encoder_conf must be a yaml mapping"):
        parse_args(make_parser(), ["--config", path])


def test_unknown_command_line_option_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(make_parser(), ["--max_epoch", "3", "--bogus", "1"])
    assert exit_info.value.code == 2
    assert "--bogus" in capsys.readouterr().err


def test_abbreviated_option_is_not_accepted():
    with pytest.raises(SystemExit):
        parse_args(make_parser(), ["--max_ep", "3"])


@pytest.mark.parametrize("text, line", [("max_epoch: 5\n  lr: [0.1\n", 2), ("a: 1\na: 2\n", 2)])
def test_unparsable_yaml_names_file_and_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        parse_args(make_parser(), ["--config", path])
    assert path in str(err.value) and f"line {line}" in str(err.value)


@pytest.mark.parametrize("text", ["- max_epoch\n- 3\n", "just a string\n"])
def test_yaml_that_is_not_a_mapping_is_an_error(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="must hold a yaml mapping") as err:
        parse_args(make_parser(), ["--config", path])
    assert path in str(err.value)


def test_missing_config_file_is_an_error(tmp_path):
    path = str(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="cannot read config file") as err:
        parse_args(make_parser(), ["--config", path])
    assert path in str(err.value)


def test_empty_yaml_keeps_defaults(tmp_path):
    args = parse_args(make_parser(), ["--config", write(tmp_path, "# nothing yet\n")])
    assert args.max_epoch == 10
    args = parse_args(make_parser(), ["--config", write(tmp_path, "encoder_conf:\n")])
    assert args.encoder_conf == {"output_size": 256, "dropout": 0.1}


def test_yaml_mapping_merges_over_dict_default(tmp_path):
    args = parse_args(make_parser(), ["--config", write(tmp_path, ENCODER_YAML)])
    assert args.encoder_conf == {"output_size": 512, "dropout": 0.1, "num_blocks": 12,
                                 "attention": {"heads": 4, "dropout": 0.0}}


def test_whole_mapping_on_command_line_merges_recursively(tmp_path):
    argv = ["--config", write(tmp_path, ENCODER_YAML),
            "--encoder_conf", "{output_size: 128, attention: {heads: 8}}"]
    args = parse_args(make_parser(), argv)
    assert args.encoder_conf == {"output_size": 128, "dropout": 0.1, "num_blocks": 12,
                                 "attention": {"heads": 8, "dropout": 0.0}}


def test_dotted_overrides_set_single_keys(tmp_path):
    argv = ["--config", write(tmp_path, ENCODER_YAML),
            "--encoder_conf.output_size", "128", "--encoder_conf.attention.heads=2",
            "--encoder_conf.activation", "swish", "--encoder_conf.dropout", "1e-2"]
    conf = parse_args(make_parser(), argv).encoder_conf
    assert conf == {"output_size": 128, "dropout": 0.01, "num_blocks": 12,
                    "attention": {"heads": 2, "dropout": 0.0}, "activation": "swish"}


def test_dotted_override_applies_after_whole_mapping():
    argv = ["--encoder_conf.output_size", "64", "--encoder_conf", "{output_size: 128}"]
    assert parse_args(make_parser(), argv).encoder_conf["output_size"] == 64


def test_dict_default_is_not_mutated():
    parser = make_parser()
    parse_args(parser, ["--encoder_conf.output_size", "1"])
    assert parse_args(parser, []).encoder_conf == {"output_size": 256, "dropout": 0.1}


def test_dotted_option_errors(capsys):
    for argv in (["--encoder_conf.output_size"], ["--encoder_conf..x", "1"],
                 ["--max_epoch.x", "1"], ["--encoder_conf", "[1, 2]"]):
        with pytest.raises(SystemExit) as exit_info:
            parse_args(make_parser(), argv)
        assert exit_info.value.code == 2, argv
    assert "expected a yaml mapping" in capsys.readouterr().err


def test_dashes_in_option_names(tmp_path):
    argv = ["--max-epoch", "3", "--use-amp=true", "--encoder-conf.output_size", "64",
            "--config", write(tmp_path, "lr: 0.2\n")]
    args = parse_args(make_parser(), argv)
    assert (args.max_epoch, args.use_amp, args.lr) == (3, True, 0.2)
    assert args.encoder_conf["output_size"] == 64


def test_dashes_in_values_are_kept():
    parser = get_parser()
    parser.add_argument("--train_args", default="")
    args = parse_args(parser, ["--train_args", "--max-epoch 3"])
    assert args.train_args == "--max-epoch 3"


def test_print_config_prints_resolved_yaml_and_exits_0(tmp_path, capsys):
    argv = ["--config", write(tmp_path, ENCODER_YAML), "--lr", "0.01", "--print_config"]
    with pytest.raises(SystemExit) as exit_info:
        parse_args(make_parser(), argv)
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["max_epoch"] == 20 and printed["lr"] == 0.01
    assert printed["encoder_conf"]["output_size"] == 512
    assert "config" not in printed and "print_config" not in printed


def test_save_then_load_reproduces_namespace(tmp_path):
    parser = make_parser()
    argv = ["--config", write(tmp_path, ENCODER_YAML), "--lr", "1e-5", "--init", "none",
            "--token_type", "bpe", "--exp_dir", "exp/run 1", "--encoder_conf.name", "1e3"]
    args = parse_args(parser, argv)
    saved = tmp_path / "exp" / "x" / "config.yaml"
    save_config(args, saved)
    assert load_config(saved)["encoder_conf"]["name"] == 1000.0
    reloaded = parse_args(parser, ["--config", str(saved)])
    assert vars(reloaded) == {**vars(args), "config": str(saved)}


def test_save_config_accepts_dict_and_keeps_strings_that_look_like_numbers(tmp_path):
    config = {"version": "1e3", "flag": "yes", "config": "ignored.yaml"}
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == {"version": "1e3", "flag": "yes"}
    assert to_yaml(argparse.Namespace(a=1, print_config=False)) == "a: 1\n"


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("Yes", True), ("1", True), ("FALSE", False), ("no", False), ("0", False)])
def test_str2bool(text, expected):
    assert str2bool(text) is expected


def test_str2bool_rejects_other_words():
    with pytest.raises(argparse.ArgumentTypeError, match="maybe"):
        str2bool("maybe")


def test_or_none_helpers():
    assert int_or_none("none") is None and int_or_none("Null") is None
    assert int_or_none("12") == 12
    with pytest.raises(ValueError):
        int_or_none("twelve")
    assert str_or_none("NONE") is None and str_or_none("conformer") == "conformer"
