"""Trainer step mechanics in one process: accumulation, precision, non-finite abort, two optimizers."""

import pytest
import torch
from torch import nn

from toolkit.tasks import get_task
from toolkit.tasks.lm import LMTask
from toolkit.train.checkpoint import latest_checkpoint, load_checkpoint
from toolkit.train.distributed import DistInfo
from toolkit.train.options import add_arguments
from toolkit.train.trainer import Trainer, TrainingError
from toolkit.utils.config import get_parser, parse_args


def _args(data, out, task="lm", *extra):
    parser = get_parser()
    parser.add_argument("--task", default=task)
    add_arguments(parser)
    if task == "lm":
        get_task("lm").add_arguments(parser)
    argv = ["--train_data_dir", str(data / "train"), "--valid_data_dir", str(data / "dev"), "--output_dir", str(out),
            "--batch_type", "static", "--shuffle", "false", "--tensorboard", "false", "--seed", "1", *extra]
    if task == "lm":
        argv += ["--token_list", str(data / "tokens.txt"), "--model_conf.hidden_dim", "32",
                 "--model_conf.embed_dim", "16", "--model_conf.num_layers", "1", "--model_conf.dropout", "0.0"]
    return parse_args(parser, argv)


def _train(args, task=None):
    trainer = Trainer(args, task or get_task(args.task), DistInfo())
    trainer.run()
    return trainer


def test_accum_grad_equals_double_batch(lm_data, tmp_path):
    accum = _train(_args(lm_data, tmp_path / "accum", "lm", "--batch_size", "8", "--accum_grad", "2",
                         "--max_epoch", "1", "--max_steps", "3"))
    double = _train(_args(lm_data, tmp_path / "double", "lm", "--batch_size", "16", "--max_epoch", "1",
                          "--max_steps", "3"))
    assert accum.step == double.step == 3
    for key, value in double.module.state_dict().items():
        torch.testing.assert_close(accum.module.state_dict()[key], value, rtol=1e-4, atol=1e-6)


def test_bf16_autocast_trains_and_reports(lm_data, tmp_path):
    trainer = _train(_args(lm_data, tmp_path / "bf16", "lm", "--batch_size", "16", "--precision", "bf16",
                           "--max_epoch", "2"))
    history = trainer.reporter.history
    assert history[2]["train"]["loss"] < history[1]["train"]["loss"]


class SqrtModel(nn.Module):
    """loss = sqrt(p): one plain SGD step with lr 4 takes p from 1 to -1, after which every gradient is NaN."""

    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.ones(()))

    def forward(self, text, text_lengths):
        loss = self.p.sqrt() + 0.0 * text_lengths.float().mean()
        return loss, {"loss": loss.item()}, text.size(0)


class SqrtTask(LMTask):
    """The LM task's data (token_int) with SqrtModel."""

    name = "sqrt"

    @classmethod
    def build_model(cls, args):
        return SqrtModel()


def test_non_finite_gradients_skip_then_abort(lm_data, tmp_path, caplog):
    args = _args(lm_data, tmp_path / "nan", "sqrt", "--batch_size", "8", "--optim", "sgd", "--lr", "4",
                 "--grad_clip", "0", "--max_nonfinite_steps", "3")
    trainer = Trainer(args, SqrtTask, DistInfo())
    with pytest.raises(TrainingError, match="3 optimizer steps in a row had non-finite gradients"):
        trainer.run()
    assert float(trainer.module.p.detach()) == pytest.approx(-1.0)  # skipped steps left the parameter alone
    assert trainer.nonfinite_total == 3 and "step skipped" in caplog.text


class MeanGAN(nn.Module):
    """A tiny real GAN: the generator learns to emit sequences like the data's token ids."""

    def __init__(self):
        super().__init__()
        self.generator = nn.Linear(4, 1)
        self.discriminator = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))

    def optimizer_params(self):
        return {"generator": self.generator.parameters(), "discriminator": self.discriminator.parameters()}

    def forward(self, text, text_lengths, turn):
        real = text.clamp(min=0).float().mean(1, keepdim=True) / 10
        noise = torch.randn(text.size(0), 4)
        fake = self.generator(noise)
        bce = nn.functional.binary_cross_entropy_with_logits
        if turn == "generator":
            logits = self.discriminator(fake)
            loss = bce(logits, torch.ones_like(logits))
        else:
            logits = torch.cat([self.discriminator(real), self.discriminator(fake.detach())])
            target = torch.cat([torch.ones_like(real), torch.zeros_like(real)])
            loss = bce(logits, target)
        return loss, {"loss": loss.item(), "fake_mean": fake.mean().item()}, text.size(0)


class MeanGANTask(LMTask):
    """The LM task's data (token_int) with MeanGAN."""

    name = "mean_gan"

    @classmethod
    def build_model(cls, args):
        return MeanGAN()


def test_two_optimizers_alternate_and_resume(lm_data, tmp_path):
    args = _args(lm_data, tmp_path / "gan", "mean_gan", "--batch_size", "16", "--max_epoch", "2",
                 "--best_model_criterion", "valid loss min", "--optim", "adam", "--lr", "0.01")
    torch.manual_seed(1)
    initial = MeanGAN().state_dict()
    trainer = _train(args, MeanGANTask)
    final = trainer.module.state_dict()
    for key in initial:
        assert not torch.equal(initial[key], final[key]), f"{key} was never updated"
    state = load_checkpoint(latest_checkpoint(str(tmp_path / "gan")), weights_only=False)
    assert set(state["optimizers"]["optimizers"]) == {"generator", "discriminator"}
    assert {"generator_loss", "discriminator_loss", "grad_norm_generator"} <= set(trainer.reporter.history[2]["train"])
    args.max_epoch = 3
    resumed = Trainer(args, MeanGANTask, DistInfo())
    resumed.run()
    assert resumed.step == trainer.step + 6 and 3 in resumed.reporter.history


class CrossTurnModel(nn.Module):
    """The generator turn's loss also depends on d; the discriminator turn's has zero gradient on d."""

    def __init__(self):
        super().__init__()
        self.g = nn.Parameter(torch.ones(()))
        self.d = nn.Parameter(torch.ones(()))

    def optimizer_params(self):
        return {"generator": [self.g], "discriminator": [self.d]}

    def forward(self, text, text_lengths, turn):
        loss = self.g * self.d if turn == "generator" else self.d * 0.0
        return loss, {"loss": loss.item()}, 1


class CrossTurnTask(LMTask):
    name = "cross_turn"

    @classmethod
    def build_model(cls, args):
        return CrossTurnModel()


def test_a_turn_never_steps_on_gradients_left_by_another_turn(lm_data, tmp_path):
    args = _args(lm_data, tmp_path / "turns", "cross_turn", "--batch_size", "16", "--max_epoch", "1",
                 "--max_steps", "2", "--optim", "sgd", "--lr", "0.1", "--grad_clip", "0")
    trainer = _train(args, CrossTurnTask)
    assert float(trainer.module.d.detach()) == 1.0  # only the generator's loss has a gradient on d
    assert float(trainer.module.g.detach()) < 1.0
