"""Training: resume reproduces the uninterrupted run, model.pt round trip, the CLI verb,
and (slow) the quickstart accuracy target."""

from __future__ import annotations

import pytest
import torch

from neuromotif.cli import main
from neuromotif.config import load_config
from neuromotif.search.data import load_dataset
from neuromotif.search.model import RSNN
from neuromotif.search.train import Trainer, evaluate, load_model
from neuromotif.stages import architecture, train_model
from tests.paths import QUICKSTART

TINY = ["data.max_samples=96", "model.hidden=[32]", "model.motif_size=8", "train.batch_size=32", "train.epochs=3"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    cfg = load_config(None, TINY)
    return cfg, load_dataset(cfg.data, cfg.seed)


def _trainer(cfg, data, out):
    return Trainer(RSNN(architecture(cfg, data.info, None), seed=cfg.seed), data, cfg.train, cfg.seed, out)


def test_resume_reproduces_the_uninterrupted_run(tiny, tmp_path):
    cfg, data = tiny
    straight = _trainer(cfg, data, tmp_path / "a")
    straight.fit(resume=False)
    first = _trainer(cfg, data, tmp_path / "b")
    first.fit(resume=False, stop_after=1)  # "interrupted" after one epoch
    resumed = _trainer(cfg, data, tmp_path / "b")  # a fresh process would build a fresh trainer
    resumed.fit(resume=True)
    assert resumed.epoch == straight.epoch == 3
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=f"{name} differs after resume")
    assert [h["val_accuracy"] for h in straight.history] == [h["val_accuracy"] for h in resumed.history]


def test_model_file_round_trip(tiny, tmp_path):
    cfg, data = tiny
    metrics = train_model(cfg, tmp_path / "run")
    model, payload = load_model(tmp_path / "run" / "model.pt")
    assert payload["data"]["name"] == "digits-saccade" and payload["arch"]["layers"][0]["kind"] == "scml"
    assert evaluate(model, data.test, torch.device("cpu"))["accuracy"] == metrics["test_accuracy_float"]
    assert (tmp_path / "run" / "train" / "history.jsonl").read_text().count("\n") == 3


def test_train_cli_and_its_bad_inputs(tmp_path, capsys):
    args = ["train", QUICKSTART, "--out", str(tmp_path / "r"), "--quiet"]
    sets = [a for s in TINY for a in ("--set", s)]
    assert main(args + sets) == 0
    assert "trained scml (32 neurons)" in capsys.readouterr().out
    bad = {
        "different config in --out": (args + sets + ["--set", "train.lr=0.1"], "holds a run with a different config"),
        "no cuda": (args + sets + ["--device", "cuda", "--force"], "no CUDA device"),
        "arch missing": (
            args + sets + ["--arch", str(tmp_path / "none.yaml"), "--force"],
            "architecture file not found",
        ),
    }
    (tmp_path / "arch.yaml").write_text(
        "version: 1\ninputs: 5\nclasses: 3\nlayers:\n- {kind: feedforward, neurons: 4}\n"
    )
    bad["arch of another dataset"] = (
        args + sets + ["--arch", str(tmp_path / "arch.yaml"), "--force"],
        "has 5 inputs / 3 classes but dataset digits-saccade has 200 / 10",
    )
    for case, (argv, expected) in bad.items():
        assert main(argv) == 2, case
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, (case, err)


def test_damaged_checkpoint_is_refused_with_a_hint(tiny, tmp_path, capsys):
    cfg, data = tiny
    trainer = _trainer(cfg, data, tmp_path / "r")
    trainer.fit(resume=False, stop_after=1)
    trainer.checkpoint_path.write_bytes(b"garbage")
    from neuromotif.core.errors import InputError

    with pytest.raises(InputError, match="use --force to start over"):
        _trainer(cfg, data, tmp_path / "r").fit(resume=True)


def test_both_losses_by_hand():
    """``count``: mean squared error of spike rates against 0.5 (true class) / 0.05 (others);
    ``ce``: cross-entropy of the counts scaled by ce_scale / T. Two samples, three classes, T = 10."""
    import math

    from neuromotif.search.settings import TrainConfig
    from neuromotif.search.train import loss_fn

    counts = torch.tensor([[5.0, 0.0, 1.0], [2.0, 2.0, 0.0]])
    labels = torch.tensor([0, 1])
    # rates 0.5 0 0.1 | 0.2 0.2 0; targets 0.5 .05 .05 | .05 .5 .05
    squares = [0.0, 0.05**2, 0.05**2, 0.15**2, 0.3**2, 0.05**2]
    count = loss_fn(counts, labels, 10, TrainConfig(loss="count"))
    assert float(count) == pytest.approx(sum(squares) / 6)
    # ce_scale 10 / T 10 = 1: logits are the counts themselves
    ce = loss_fn(counts, labels, 10, TrainConfig(loss="ce"))
    by_hand = (-(5 - math.log(math.exp(5) + 1 + math.exp(1))) - (2 - math.log(2 * math.exp(2) + 1))) / 2
    assert float(ce) == pytest.approx(by_hand)


def test_the_activity_regulariser_by_hand():
    """Issue 25: a burst step (all of a layer fires) and a silent step both pay; the readout does not."""
    from neuromotif.search.settings import TrainConfig
    from neuromotif.search.train import activity_term, loss_fn, network_loss

    hidden = torch.zeros(1, 2, 4)
    hidden[0, 0] = 1.0  # step 0: the whole layer fires; step 1: silence
    trace = [{"spikes": hidden}, {"spikes": torch.ones(1, 2, 3)}]
    cfg = TrainConfig(activity_weight=2.0, activity_target=0.1)
    assert float(activity_term(trace, cfg)) == pytest.approx(2.0 * (0.9**2 + 0.1**2) / 2)
    counts, labels = torch.tensor([[3.0, 1.0]]), torch.tensor([0])
    out = {"counts": counts, "trace": trace}
    off = TrainConfig()
    assert float(network_loss(out, labels, 2, off)) == float(loss_fn(counts, labels, 2, off))  # weight 0: no term
    assert float(network_loss(out, labels, 2, cfg)) == pytest.approx(
        float(loss_fn(counts, labels, 2, cfg)) + 2.0 * 0.41
    )
