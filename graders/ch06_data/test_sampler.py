"""Grader for ch06.sampler: balanced_sampler(labels) -> WeightedRandomSampler, weights 1/count(label)."""
import math

import torch

from torchcourse.grading import assert_close, assert_fast, call_unchanged, check
from torchcourse.remote import Handle

COUNTS = {1: 400, 2: 100, 4: 40, 7: 10}            # imbalanced, and classes 0, 3, 5, 6 absent


def _labels(rng):
    labels = torch.cat([torch.full((n,), c, dtype=torch.int64) for c, n in COUNTS.items()])
    return labels[torch.randperm(len(labels), generator=rng)]


def _sampler(ex, labels):
    s = ex.balanced_sampler(labels)
    if not isinstance(s, Handle) or not s.type_name.endswith("WeightedRandomSampler"):
        got = s.type_name if isinstance(s, Handle) else type(s).__name__
        raise AssertionError(f"balanced_sampler must return a torch.utils.data.WeightedRandomSampler, got {got}")
    return s


@check(points=1, title="a WeightedRandomSampler with num_samples=N, replacement=True")
def test_sampler_settings(ex, rng):
    labels = _labels(rng)
    for given, what in ((labels, "a LongTensor"), (labels.tolist(), "a list of ints")):
        s = _sampler(ex, given)
        if s.num_samples != len(labels):
            raise AssertionError(f"with labels as {what}: num_samples is {s.num_samples}, expected len(labels) = "
                                 f"{len(labels)} (one epoch draws as many samples as the dataset holds)")
        if s.replacement is not True:
            raise AssertionError(f"with labels as {what}: replacement is {s.replacement!r}; it must be True, or the "
                                 f"rare classes run out after their few samples and the draw is not balanced")


@check(points=2, title="one weight per sample, proportional to 1/count(label)")
def test_weights_per_sample(ex, rng):
    labels = _labels(rng)
    weights = _sampler(ex, labels).weights
    if not isinstance(weights, torch.Tensor) or weights.dim() != 1:
        raise AssertionError(f"sampler.weights should be a 1-D tensor, got {weights!r}"[:200])
    if len(weights) != len(labels):
        per_class = " weights per class instead of per sample:" if len(weights) <= max(COUNTS) + 1 else ""
        raise AssertionError(f"sampler.weights has {len(weights)} entries for {len(labels)} samples;{per_class} "
                             f"WeightedRandomSampler draws *indices* i with probability ∝ weights[i], so it needs one "
                             f"weight per sample: 1 / count(labels[i])")
    counts = torch.tensor([COUNTS[int(c)] for c in labels], dtype=torch.float64)
    expected = 1.0 / counts
    got = weights.to(torch.float64)
    mistakes = [("weights proportional to the class count instead of its inverse", counts / counts.sum()),
                ("weights 1/count² (inverse applied twice)", expected ** 2 / (expected ** 2).sum()),
                ("weights 1/sqrt(count): not fully balanced", expected.sqrt() / expected.sqrt().sum())]
    # rtol 1e-6: float32 weights are as valid as float64 ones (WeightedRandomSampler converts them to float64)
    assert_close(got / got.sum(), expected / expected.sum(), atol=1e-12, rtol=1e-6,
                 what="sampler.weights (normalised to sum 1)", hint="weights[i] = 1 / count(labels[i])",
                 mistakes=mistakes)


@check(points=3, title="draws every class equally often (class frequencies over 22,000 draws)")
def test_class_frequencies(ex, impl, rng):
    labels = _labels(rng)
    s = _sampler(ex, labels)
    impl.lib("torch").manual_seed(1234)
    rounds = 40
    idx = impl.lib("worker_support.testfns").draw(s, rounds)
    n = len(labels) * rounds
    if not isinstance(idx, torch.Tensor) or len(idx) != n:
        raise AssertionError(f"{rounds} passes over the sampler should give {n} indices, got "
                             f"{len(idx) if isinstance(idx, torch.Tensor) else idx!r}")
    if int(idx.min()) < 0 or int(idx.max()) >= len(labels):
        raise AssertionError(f"the sampler yielded index {int(idx.max())} for a dataset of {len(labels)} samples")
    classes = sorted(COUNTS)
    freq = torch.stack([(labels[idx] == c).double().mean() for c in classes])
    # each frequency is a mean of n Bernoulli(1/4) draws: standard error sqrt(p(1-p)/n) ≈ 0.003; 6 of them
    # (≈ 0.018) is never exceeded by chance, while any unbalanced sampler is off by far more
    tol = 6 * math.sqrt(0.25 * 0.75 / n)
    expected = torch.full((len(classes),), 1 / len(classes), dtype=torch.float64)
    total = sum(COUNTS.values())
    natural = torch.tensor([COUNTS[c] / total for c in classes], dtype=torch.float64)
    assert_close(freq, expected, atol=tol,
                 what=f"the frequencies of classes {classes} among {n} drawn samples (tolerance {tol:.4f}, 6 standard "
                      f"errors)",
                 hint="each sample's weight is 1/count(label), so each class carries the same total weight",
                 mistakes=[(("no rebalancing: the classes come out in their natural proportions (all weights equal, or "
                            "replacement=False)"), natural)])


@check(points=1, covers=("inputs",), title="leaves the labels unchanged")
def test_labels_unchanged(ex, rng):
    labels = _labels(rng)
    call_unchanged(ex.balanced_sampler, labels, names=("labels",), what="balanced_sampler(labels)")


@check(points=1, speed=True, timeout=60, title="no Python loop over the labels")
def test_speed(ex, ref, rng, exercise):
    # 200,000 labels of the 4 classes 1, 2, 4, 7: counting or weighting label by label runs 200,000 Python
    # iterations, the reference's bincount and indexing a few tensor operations
    labels = torch.tensor(sorted(COUNTS))[torch.randint(0, len(COUNTS), (200_000,), generator=rng)]
    assert_fast(ex.balanced_sampler, ref.balanced_sampler, labels, repeat=15,
                max_ratio=exercise.threshold("speed_max_ratio"), what="balanced_sampler(200,000 labels)")
