"""Grader for ch06.collate: pad_collate(batch, padding_value=0) -> (padded[B, T, ...], lengths[B], labels[B])."""
import torch
from support.training import expect_part_follows
from torch.nn.utils.rnn import pad_sequence

from torchcourse.grading import (
    LearnerError,
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_tensor,
    forbidden_api_check,
)

test_no_forbidden_api = forbidden_api_check()


def _call(ex, batch, **kw):
    res = ex.pad_collate(batch, **kw)
    if not (isinstance(res, tuple) and len(res) == 3):
        raise AssertionError(f"pad_collate must return a tuple (padded, lengths, labels), got "
                             f"{type(res).__name__}{f' of length {len(res)}' if isinstance(res, tuple) else ''}")
    return res


def _judge(res, batch, padding_value, what):
    padded, lengths, labels = res
    seqs = [s for s, _ in batch]
    expected = pad_sequence(seqs, batch_first=True, padding_value=padding_value)
    expect_tensor(padded, shape=expected.shape, dtype=expected.dtype, what=f"padded of {what}")
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
    mistakes = [
        (f"pads with the wrong value: padding_value={padding_value} was ignored (padded with 0)",
         pad_sequence(seqs, batch_first=True, padding_value=0)),
        ("the batch was sorted by length; pad_collate keeps the batch order",
         pad_sequence([seqs[i] for i in order], batch_first=True, padding_value=padding_value)),
    ]
    assert_close(padded, expected, atol=0, what=f"padded of {what}",
                 hint="padded[i, :T_i] = sequence_i, padding_value after it", mistakes=mistakes)
    if not isinstance(lengths, torch.Tensor):
        raise AssertionError(f"lengths of {what}: expected an int64 tensor [B], got {type(lengths).__name__}")
    if lengths.dtype != torch.int64:
        raise AssertionError(f"lengths not long: lengths of {what} has dtype {lengths.dtype}, expected torch.int64 "
                             f"(pack_padded_sequence and indexing want int64 lengths)")
    expect_tensor(lengths, shape=(len(seqs),), what=f"lengths of {what}")
    want = torch.tensor([len(s) for s in seqs])
    if not torch.equal(lengths, want):
        hint = " (sorted: keep the batch order)" if torch.equal(lengths, want.sort(descending=True).values) else ""
        raise AssertionError(f"lengths of {what}: got {lengths.tolist()}, expected {want.tolist()}{hint}")
    want_labels = torch.tensor([int(lab) for _, lab in batch])
    expect_tensor(labels, shape=(len(seqs),), what=f"labels of {what}")
    if labels.dtype != torch.int64:
        raise AssertionError(f"labels of {what} have dtype {labels.dtype}, expected torch.int64 (class indices)")
    if not torch.equal(labels, want_labels):
        raise AssertionError(f"labels of {what}: got {labels.tolist()}, expected {want_labels.tolist()} (same order "
                             f"as the batch)")


@check(points=3, title="matches pad_sequence on feature sequences [T_i, D]")
def test_matches_pad_sequence(ex, rng):
    batch = [(torch.randn(t, 3, generator=rng), lab) for t, lab in ((5, 2), (2, 0), (7, 1), (1, 2))]
    _judge(_call(ex, batch), batch, 0, "pad_collate(4 float sequences [T_i, 3], T = 5, 2, 7, 1)")


@check(points=2, title="honours padding_value (token ids [T_i], int64)")
def test_padding_value(ex, rng):
    batch = [(torch.randint(1, 50, (t,), generator=rng), lab) for t, lab in ((3, 1), (6, 0), (4, 1))]
    _judge(_call(ex, batch, padding_value=-1), batch, -1,
           "pad_collate(3 int64 token sequences, T = 3, 6, 4, padding_value=-1)")


@check(points=1, title="lengths and labels are int64 tensors")
def test_lengths_long(ex, rng):
    batch = [(torch.randn(t, 2, 2, generator=rng), lab) for t, lab in ((4, 3), (4, 1), (2, 0))]
    _judge(_call(ex, batch, padding_value=0.5), batch, 0.5, "pad_collate(3 sequences [T_i, 2, 2], padding_value=0.5)")


@check(points=1, title="works as a DataLoader collate_fn")
def test_dataloader(ex, impl, rng):
    items = [(torch.randint(1, 9, (t,), generator=rng), t % 3) for t in (3, 1, 4, 1, 5, 2, 6)]
    data = impl.lib("torch.utils.data")
    loader = data.DataLoader(items, batch_size=3, collate_fn=ex.pad_collate)
    batches = impl.lib("builtins").list(loader)
    if not isinstance(batches, list) or len(batches) != 3:
        raise AssertionError(f"a DataLoader(batch_size=3, collate_fn=pad_collate) over 7 items gave "
                             f"{len(batches) if isinstance(batches, list) else batches!r} batches, expected 3")
    for k, res in enumerate(batches):
        chunk = items[3 * k: 3 * k + 3]
        if not (isinstance(res, tuple) and len(res) == 3):
            raise AssertionError(f"batch {k} of the DataLoader is not a tuple (padded, lengths, labels)")
        _judge(res, chunk, 0, f"DataLoader batch {k}")


@check(points=1, title="a 0 inside a sequence is data, not padding (lengths come from the shapes)")
def test_zeros_inside_sequences(ex, rng):
    batch = [(torch.randint(0, 3, (t,), generator=rng), lab) for t, lab in ((6, 0), (3, 1), (8, 2), (5, 0))]
    batch[1][0][-1] = 0                                  # a sequence that ends on a 0 token
    res = _call(ex, batch)
    counted = torch.tensor([int((s != 0).sum()) for s, _ in batch])
    if isinstance(res[1], torch.Tensor) and res[1].shape == counted.shape and torch.equal(res[1], counted):
        raise AssertionError(f"lengths counted from the non-zero values ({res[1].tolist()}) of token sequences that "
                             f"contain the token 0; the lengths are {[len(s) for s, _ in batch]}: each sequence's "
                             f"shape[0], whatever its values")
    _judge(res, batch, 0, "pad_collate(4 int64 token sequences holding zeros, T = 6, 3, 8, 5)")


@check(points=1, title="non-contiguous sequences (transposed views) are padded like any other")
def test_non_contiguous(ex, rng):
    batch = [(torch.randn(4, t, generator=rng).t(), lab) for t, lab in ((5, 1), (2, 0), (6, 1))]
    try:
        res = _call(ex, batch)
    except LearnerError as e:
        if "view" in e.message:
            raise AssertionError(f"pad_collate failed on non-contiguous sequences [T_i, 4] (transposed views): "
                                 f"{e.message[:300]}. Likely mistake: .view() on a sequence or on the padded batch; "
                                 f"copy with slices, or use .reshape()") from None
        raise
    _judge(res, batch, 0, "pad_collate(3 non-contiguous float sequences [T_i, 4], T = 5, 2, 6)")


@check(points=1, covers=("device",), title="the padded batch is made on the sequences' device (checked on `meta`)")
def test_device_follows(ex, rng):
    batch = [(torch.randn(t, 3, generator=rng), lab) for t, lab in ((5, 2), (2, 0), (7, 1))]
    expect_part_follows(ex.pad_collate, batch, part=0, what="pad_collate(batch) (padded, its first result)")


@check(points=1, covers=("inputs",), title="leaves the batch's sequences unchanged")
def test_inputs_unchanged(ex, rng):
    batch = [(torch.randn(t, 3, generator=rng), lab) for t, lab in ((5, 2), (2, 0), (7, 1))]
    res = call_unchanged(ex.pad_collate, batch, names=("batch",), what="pad_collate(batch)")
    _judge(res, batch, 0, "pad_collate(3 float sequences [T_i, 3])")


@check(points=1, speed=True, timeout=60, title="no Python loop over positions")
def test_speed(ex, ref, rng, exercise):
    # 32 sequences of 500..1000 steps: a loop over positions runs ~24000 Python iterations, the reference's loop
    # over the batch 32 copies, and a mask over all positions one
    lengths = torch.randint(500, 1001, (32,), generator=rng).tolist()
    batch = [(torch.randn(t, 2, generator=rng), i % 5) for i, t in enumerate(lengths)]
    assert_fast(ex.pad_collate, ref.pad_collate, batch, repeat=15, max_ratio=exercise.threshold("speed_max_ratio"),
                what="pad_collate(32 sequences [500..1000, 2])")
