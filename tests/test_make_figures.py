"""scripts/make_figures.py: the pure scoring helpers, against hand counts (no training here;
`python scripts/make_figures.py --quick` is the smoke run)."""

import numpy as np

from tests.helpers import load_script


def _script():
    return load_script("make_figures")


def test_by_length_buckets_rates_by_hand_count():
    by_length = _script().by_length
    lengths = [3, 4, 4, 6, 7, 9, 12]
    # sequence accuracy: right, wrong, right | wrong, wrong | right | (12: outside the edges)
    buckets = by_length(lengths, [1, 0, 1, 0, 0, 1, 1], [1] * 7, [3, 5, 8, 11])
    assert [b["lengths"] for b in buckets] == [[3, 4], [5, 7], [8, 10]]
    assert [b["examples"] for b in buckets] == [3, 2, 1]
    assert buckets[0]["value"] == 2 / 3 and buckets[1]["value"] == 0.0
    assert buckets[2]["value"] == 1.0
    # token accuracy pools tokens over the bucket: (2 + 4) / (4 + 5), not a mean of rates
    tokens = by_length([3, 4], [2, 4], [4, 5], [3, 5])
    assert tokens[0]["value"] == 6 / 9
    assert by_length([3], [1], [1], [5, 8])[0] == {"lengths": [5, 7], "examples": 0,
                                                  "value": None}


def test_teacher_forced_counts_positions_and_whole_sequences():
    class OneHot:  # a "model" whose logits pick fixed tokens
        def __init__(self, predicted):
            self.predicted = np.asarray(predicted)

        def predict_on_batch(self, batch):
            rows = len(batch["encoder_token_ids"])
            out, self.predicted = self.predicted[:rows], self.predicted[rows:]
            return np.eye(8)[out]

    labels = np.array([[4, 5, 2, 0], [6, 7, 5, 2], [4, 2, 0, 0]])
    predicted = [[4, 5, 2, 3], [6, 1, 5, 2], [4, 3, 1, 1]]  # padding positions never count
    inputs = {"encoder_token_ids": np.ones((3, 2)), "decoder_token_ids": np.ones((3, 4))}
    sequence, right, real = _script().teacher_forced(OneHot(predicted), (inputs, labels),
                                                     batch_size=2)
    assert sequence.tolist() == [True, False, False]
    assert right.sum(axis=1).tolist() == [3, 3, 1] and real.sum(axis=1).tolist() == [3, 4, 2]
    assert right.sum(axis=0).tolist() == [3, 1, 2, 1]  # per output position
