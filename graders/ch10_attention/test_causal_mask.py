"""Grader for ch10.causal_mask: causal_mask(lq, lk=None, device=None) -> Bool[lq, lk], True = may attend."""
import torch
from support.attention import default_device

from torchcourse.grading import assert_close, assert_fast, check, expect_tensor


def _judge(out, lq, lk, what):
    expected = torch.ones(lq, lk, dtype=torch.bool).tril()          # the oracle: j <= i, top-left
    expect_tensor(out, shape=(lq, lk), what=what)
    if out.dtype != torch.bool:
        raise AssertionError(f"{what}: expected dtype torch.bool (True = may attend), got {out.dtype}. Hint: a "
                             f"comparison such as j <= i already gives a bool tensor; masked_fill and "
                             f"torch.where need bool masks")
    ones = torch.ones(lq, lk, dtype=torch.bool)
    mistakes = [
        ("diagonal excluded (j < i): a query must be allowed to see its own position", ones.tril(-1)),
        ("mask inverted: True must mean *may attend*, the past and present, not the future", ~ones.tril()),
        ("upper triangle (j >= i): the mask lets queries see the future", ones.triu()),
        (("aligned bottom-right (j <= i + lk - lq); the contract is top-left aligned like "
         "F.scaled_dot_product_attention(is_causal=True)"), ones.tril(lk - lq)),
    ]
    assert_close(out.double(), expected.double(), atol=0, rtol=0, what=what,
                 mistakes=[(n, m.double()) for n, m in mistakes],
                 hint="mask[i, j] is True exactly when j <= i (row = query, column = key)")


@check(points=3)
def test_matches_tril(ex):
    for lq, lk in ((5, 5), (3, 7), (7, 3), (1, 1), (1, 4)):
        _judge(ex.causal_mask(lq, lk), lq, lk, f"causal_mask({lq}, {lk})")


@check(points=1)
def test_default_lk_and_device(ex):
    _judge(ex.causal_mask(6), 6, 6, "causal_mask(6) (lk defaults to lq)")
    out = ex.causal_mask(4, 2, device=torch.device("cpu"))
    expect_tensor(out, device="cpu", what="causal_mask(4, 2, device=torch.device('cpu'))")
    _judge(out, 4, 2, "causal_mask(4, 2, device=torch.device('cpu'))")
    _judge(ex.causal_mask(3, 5, "cpu"), 3, 5, "causal_mask(3, 5, 'cpu') (device given as a string)")


def _expect_on_meta(out, what):
    if not isinstance(out, torch.Tensor) or out.device.type != "meta":
        got = out.device.type if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(
            f"{what}: expected the mask on the meta device, got {got}. Likely mistake: torch.arange(...) or "
            f"torch.ones(...) without device=device (or a .to() that was left out), so the mask is made on the "
            f"CPU whatever device the caller asks for; a GPU caller then gets a CPU mask.")
    expect_tensor(out, dtype=torch.bool, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, impl):
    # `meta` stands in for a GPU: every machine has it, and a mask made on the CPU instead shows there
    _expect_on_meta(ex.causal_mask(5, 7, device="meta"), "causal_mask(5, 7, device='meta')")
    _expect_on_meta(ex.causal_mask(4, device=torch.device("meta")), "causal_mask(4, device=torch.device('meta'))")
    with default_device(impl.lib("torch"), "meta"):
        out = ex.causal_mask(3, 6)
    _expect_on_meta(out, "causal_mask(3, 6) with torch.set_default_device('meta') (device=None follows the "
                         "default device)")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, exercise):
    # a tall and a wide mask: a loop over the rows (or over the columns) runs 2048 iterations (see chapter.toml)
    for lq, lk in ((2048, 64), (64, 2048)):
        assert_fast(ex.causal_mask, ref.causal_mask, lq, lk, max_ratio=exercise.threshold("speed_max_ratio"),
                    what=f"causal_mask({lq}, {lk})")


@check(points=1, gpu=True)
def test_gpu(ex, device):
    out = ex.causal_mask(5, 8, device=device)
    expect_tensor(out, shape=(5, 8), dtype=torch.bool, device=device, what="causal_mask(5, 8, device='cuda')")
    _judge(out.cpu(), 5, 8, "causal_mask(5, 8, device='cuda') copied back to the CPU")
