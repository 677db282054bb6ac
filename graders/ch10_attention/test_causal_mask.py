"""Grader for ch10.causal_mask: causal_mask(lq, lk=None, device=None) -> Bool[lq, lk], True = may attend."""
import torch

from torchcourse.grading import assert_close, check, expect_tensor


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


@check(points=1, gpu=True)
def test_gpu(ex, device):
    out = ex.causal_mask(5, 8, device=device)
    expect_tensor(out, shape=(5, 8), dtype=torch.bool, device=device, what="causal_mask(5, 8, device='cuda')")
    _judge(out.cpu(), 5, 8, "causal_mask(5, 8, device='cuda') copied back to the CPU")
