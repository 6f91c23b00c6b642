"""How much of a dataset a linear read-out of its input spikes solves, with and without timing.

For each dataset: logistic regression on each input channel's spike count over the whole sample
("counts alone", what a network without memory or timing sees at best), and on the counts in 10
equal time bins. Trained on the training split (validation included), scored on the test split;
features standardised, scikit-learn's default L2 strength (nothing tuned). A task on which counts
alone do as well as binned counts does not need timing; digits-order is built so that counts alone
cannot tell which digit came first.

    python benchmarks/bench_linear_readout.py [--datasets letters-tts digits-order digits-saccade]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import save

BINS = 10


def features(spikes: np.ndarray, bins: int) -> np.ndarray:
    """Spike counts per channel in ``bins`` equal time bins: ``[n, T, C]`` -> ``[n, bins * C]``."""
    n, t, c = spikes.shape
    edges = np.linspace(0, t, bins + 1).astype(int)
    return np.concatenate([spikes[:, a:b].sum(1) for a, b in zip(edges[:-1], edges[1:], strict=True)], axis=1).reshape(
        n, bins * c
    )


def score(name: str) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from neuromotif.config import load_config
    from neuromotif.search.data import load_dataset

    d = load_dataset(load_config(None, [f"data.name={name}", "data.val_fraction=0.01"]).data, seed=0)
    train = np.concatenate([d.train.spikes(), d.val.spikes()]).astype(np.float32)
    labels = np.concatenate([d.train.labels, d.val.labels])
    test, test_labels = d.test.spikes().astype(np.float32), d.test.labels
    row = {"dataset": name, "train_samples": len(labels), "test_samples": len(test_labels)}
    for key, bins in (("counts_alone", 1), (f"counts_in_{BINS}_bins", BINS)):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(features(train, bins), labels)
        row[key] = float(model.score(features(test, bins), test_labels))
        print(f"{name}: {key} {100 * row[key]:.1f} %")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["letters-tts", "digits-order", "digits-saccade"])
    args = parser.parse_args()
    save("bench_linear_readout", {"bins": BINS, "rows": [score(n) for n in args.datasets]})


if __name__ == "__main__":
    main()
