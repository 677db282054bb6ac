"""Grader for ch06.split: train_val_split(n, val_fraction, seed) -> (train_idx, val_idx)."""
import math

import torch

from torchcourse.grading import check

CASES = ((10, 0.25), (9, 0.3), (1797, 0.2), (5, 0.5), (1437, 0.2), (100, 0.0), (7, 1.0), (21, 0.3))


def _split(ex, n, f, seed):
    res = ex.train_val_split(n, f, seed)
    what = f"train_val_split({n}, {f}, seed={seed})"
    if not (isinstance(res, tuple) and len(res) == 2):
        raise AssertionError(f"{what} must return a tuple (train_idx, val_idx), got {type(res).__name__}")
    for name, t in zip(("train_idx", "val_idx"), res):
        if not isinstance(t, torch.Tensor):
            raise AssertionError(f"{what}: {name} is a {type(t).__name__}, expected a 1-D int64 tensor")
        if t.dtype != torch.int64 or t.dim() != 1:
            raise AssertionError(f"{what}: {name} has dtype {t.dtype} and {t.dim()} dimension(s), expected a 1-D "
                                 f"int64 tensor (LongTensor: it indexes datasets and tensors)")
    return res, what


@check(points=2, title="validation size floor(n·val_fraction + 0.5)")
def test_sizes(ex):
    for n, f in CASES:
        (train, val), what = _split(ex, n, f, 0)
        want = math.floor(n * f + 0.5)
        if len(val) != want:
            why = ("round() rounds halves to even; the contract rounds halves up" if len(val) == round(n * f) else
                   "int() truncates; the contract rounds to the nearest, halves up" if len(val) == int(n * f) else
                   "train and validation swapped" if len(val) == n - want else "")
            raise AssertionError(f"{what}: {len(val)} validation indices, expected floor({n}·{f} + 0.5) = {want}"
                                 + (f". Likely mistake: {why}" if why else ""))
        if len(train) + len(val) != n:
            raise AssertionError(f"{what}: {len(train)} + {len(val)} indices for n = {n}: overlap or missing "
                                 f"indices; both parts come from cutting one permutation in two")


@check(points=2, title="disjoint and covering 0..n-1 (no overlap)")
def test_disjoint_covering(ex):
    for n, f in CASES:
        for seed in (0, 1, 2):
            (train, val), what = _split(ex, n, f, seed)
            both = torch.cat([train, val])
            shared = sorted(set(train.tolist()) & set(val.tolist()))
            if shared:
                raise AssertionError(f"{what}: overlap: {len(shared)} index(es) are in both parts (e.g. {shared[:5]}); "
                                     f"draw one permutation and cut it in two, instead of drawing each part separately")
            if len(set(both.tolist())) != len(both):
                raise AssertionError(f"{what}: an index appears twice in the same part (sampling with replacement?)")
            if sorted(both.tolist()) != list(range(n)):
                missing = sorted(set(range(n)) - set(both.tolist()))[:5]
                extra = sorted(set(both.tolist()) - set(range(n)))[:5]
                raise AssertionError(f"{what}: together the parts should hold each of 0..{n - 1} once; missing "
                                     f"{missing}, out of range {extra}")


@check(points=2, title="deterministic per seed, different across seeds, global RNG untouched")
def test_seeded(ex, impl):
    wtorch = impl.lib("torch")
    wtorch.manual_seed(7)
    before = wtorch.get_rng_state()
    (t1, v1), what = _split(ex, 100, 0.2, 3)
    after = wtorch.get_rng_state()
    (t2, v2), _ = _split(ex, 100, 0.2, 3)
    if not (torch.equal(t1, t2) and torch.equal(v1, v2)):
        raise AssertionError(f"{what} called twice gave two different splits; the same seed must give the same "
                             f"split: draw from torch.Generator().manual_seed(seed)")
    (_, v3), _ = _split(ex, 100, 0.2, 4)
    if torch.equal(v1.sort().values, v3.sort().values):
        raise AssertionError("seeds 3 and 4 gave the same validation set: the seed must change the split")
    if not torch.equal(before, after):
        raise AssertionError(f"{what} changed the global random generator (torch.manual_seed or torch.randperm "
                             f"without generator=): use a private torch.Generator().manual_seed(seed), so the "
                             f"split does not disturb the rest of the program's randomness")
    if torch.equal(v1.sort().values, torch.arange(20)) or torch.equal(v1.sort().values, torch.arange(80, 100)):
        raise AssertionError(f"{what}: the split is not shuffled (the validation part is the first or last indices)")

