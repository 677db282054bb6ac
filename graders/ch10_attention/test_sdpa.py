"""Grader for ch10.sdpa: scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, dropout_p=0.0)."""
import math

import torch
import torch.nn.functional as F
from support.layouts import explain_layout_errors, transposed

from torchcourse.grading import (
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
    forbidden_api_check,
    grad_of,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64


def _randn(rng, *shape, dtype=F64, device="cpu"):
    return torch.randn(*shape, generator=rng, dtype=dtype).to(device)


def _attention(q, k, v, keep=None, *, scale=None, dim=-1, nan_rows=False):
    """Trusted explicit attention. keep: bool, True = may attend. Rows with no key give zeros
    (or NaN with nan_rows=True, what an implementation without the zeroing step returns)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ k.transpose(-2, -1)) * scale
    if keep is None:
        w = s.softmax(dim)
    else:
        keep = keep.expand_as(s)
        valid = keep.any(dim, keepdim=True)
        w = s.masked_fill(~(keep | ~valid), float("-inf")).softmax(dim) * valid
        if nan_rows:
            w = w.masked_fill(~valid, float("nan"))
    return w @ v, w


def _both(name, q, k, v, keep=None, **kw):
    """The same mistake, with fully masked rows given as zeros and as NaN."""
    (o0, w0), (o1, w1) = _attention(q, k, v, keep, **kw), _attention(q, k, v, keep, nan_rows=True, **kw)
    return [(name, o0, w0), (name, o1, w1)]


def _call(ex, *args, **kw):
    res = ex.scaled_dot_product_attention(*args, **kw)
    if not (isinstance(res, tuple) and len(res) == 2):
        raise AssertionError(f"scaled_dot_product_attention must return a tuple (out, weights), got "
                             f"{type(res).__name__}{'' if not isinstance(res, tuple) else f' of length {len(res)}'}")
    return res


def _judge(out, w, o_ref, w_ref, mistakes, *, atol, what, hint=None):
    """Compare weights first (their mistakes are the most recognisable), then out."""
    expect_tensor(w, shape=w_ref.shape, dtype=w_ref.dtype, device=w_ref.device, what=f"weights of {what}")
    expect_tensor(out, shape=o_ref.shape, dtype=o_ref.dtype, device=o_ref.device, what=f"out of {what}")
    assert_close(w, w_ref, atol=atol, rtol=atol, what=f"weights of {what}", hint=hint,
                 mistakes=[(n, mw) for n, _, mw in mistakes])
    assert_close(out, o_ref, atol=atol, rtol=atol, what=f"out of {what}", hint=hint,
                 mistakes=[(n, mo) for n, mo, _ in mistakes])


def _common_mistakes(q, k, v, keep=None):
    d = q.shape[-1]
    return (_both("no 1/sqrt(d) scaling of the scores", q, k, v, keep, scale=1.0)
            + _both("scores divided by d instead of sqrt(d)", q, k, v, keep, scale=1.0 / d)
            + _both("softmax over the query axis (dim=-2) instead of the key axis (dim=-1)", q, k, v, keep, dim=-2))


@check(points=3)
def test_matches_builtin(ex, rng):
    q, k, v = _randn(rng, 2, 3, 5, 8), _randn(rng, 2, 3, 7, 8), _randn(rng, 2, 3, 7, 6)
    out, w = _call(ex, q, k, v)
    o_ref = F.scaled_dot_product_attention(q, k, v)
    _, w_ref = _attention(q, k, v)
    _judge(out, w, o_ref, w_ref, _common_mistakes(q, k, v), atol=1e-10,
           what="scaled_dot_product_attention(q[2,3,5,8], k[2,3,7,8], v[2,3,7,6]) in float64",
           hint="weights = softmax(q @ k.transpose(-2, -1) / sqrt(d), dim=-1); out = weights @ v")


@check(points=2)
def test_mask(ex, rng):
    q, k, v = _randn(rng, 2, 3, 5, 8), _randn(rng, 2, 3, 7, 8), _randn(rng, 2, 3, 7, 4)
    # every row keeps at least one key and drops at least one, so neither mask nor ~mask empties a row
    per_head = torch.rand(2, 1, 5, 7, generator=rng) < 0.5
    per_head[..., torch.arange(5), torch.arange(5)] = True
    per_head[..., torch.arange(5), 6] = False
    padding = torch.ones(2, 1, 1, 7, dtype=torch.bool)
    padding[0, ..., 4:] = False
    padding[1, ..., 1] = False
    for mask, label in ((per_head, "[2,1,5,7]"), (padding, "[2,1,1,7] (key padding)")):
        out, w = _call(ex, q, k, v, mask)
        o_ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        _, w_ref = _attention(q, k, v, mask)
        mistakes = (_both("mask inverted: True must mean *may attend* (fill -inf where mask is False)",
                          q, k, v, ~mask)
                    + _both("mask ignored", q, k, v)
                    + _common_mistakes(q, k, v, mask))
        _judge(out, w, o_ref, w_ref, mistakes, atol=1e-10,
               what=f"scaled_dot_product_attention with a bool mask of shape {label}",
               hint="masked_fill the scores with -inf where mask is False, before the softmax; the mask "
                    "broadcasts against [..., Lq, Lk]")


@check(points=2)
def test_causal(ex, rng):
    for lq, lk in ((6, 6), (4, 7), (7, 4)):
        q, k, v = _randn(rng, 2, 2, lq, 8), _randn(rng, 2, 2, lk, 8), _randn(rng, 2, 2, lk, 5)
        i, j = torch.arange(lq).unsqueeze(1), torch.arange(lk).unsqueeze(0)
        out, w = _call(ex, q, k, v, is_causal=True)
        o_ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        _, w_ref = _attention(q, k, v, j <= i)
        mistakes = (_both("causal off-by-one: the diagonal is excluded (j < i); a query must see its own "
                          "position, keep j <= i", q, k, v, j < i)
                    + _both("causal mask inverted: queries attend to the future (j >= i)", q, k, v, j >= i)
                    + _both("causal mask aligned bottom-right (j <= i + Lk - Lq); the contract is top-left "
                            "aligned like F.scaled_dot_product_attention: j <= i", q, k, v, j <= i + lk - lq)
                    + _both("is_causal ignored", q, k, v)
                    + _common_mistakes(q, k, v, j <= i))
        _judge(out, w, o_ref, w_ref, mistakes, atol=1e-10,
               what=f"scaled_dot_product_attention(is_causal=True) with Lq={lq}, Lk={lk}",
               hint="query i may attend to keys j <= i (a lower-triangular keep pattern, counted from the "
                    "top-left corner)")
    # is_causal and mask combine by AND
    q, k, v = _randn(rng, 2, 6, 8), _randn(rng, 2, 6, 8), _randn(rng, 2, 6, 3)
    tril = torch.ones(6, 6, dtype=torch.bool).tril()
    mask = torch.rand(2, 6, 6, generator=rng) < 0.6
    mask[:, torch.arange(6), torch.arange(6)] = True
    out, w = _call(ex, q, k, v, mask, is_causal=True)
    o_ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask & tril)
    _, w_ref = _attention(q, k, v, mask & tril)
    mistakes = (_both("is_causal replaces the mask instead of combining with it by AND", q, k, v, tril)
                + _both("mask given, so is_causal was ignored; they combine by AND", q, k, v, mask)
                + _both("mask and causal pattern combined by OR instead of AND", q, k, v, mask | tril))
    _judge(out, w, o_ref, w_ref, mistakes, atol=1e-10,
           what="scaled_dot_product_attention(mask, is_causal=True)",
           hint="a key is visible only if the mask allows it AND it is not in the future")


@check(points=2)
def test_fully_masked_rows(ex, rng):
    q, k, v = _randn(rng, 3, 5, 8), _randn(rng, 3, 7, 8), _randn(rng, 3, 7, 4)
    mask = torch.rand(3, 5, 7, generator=rng) < 0.6
    mask[..., 0] = True
    mask[0, 1] = False
    mask[2, 3] = False                                    # two query rows with no visible key
    no_first = torch.ones(7, dtype=torch.bool)
    no_first[0] = False                                   # with is_causal, query 0 has nothing left
    for m, causal, rows in ((mask, False, "rows [0,1] and [2,3]"), (no_first, True, "row 0")):
        out, w = _call(ex, q, k, v, m, is_causal=causal)
        keep = m & torch.ones(5, 7, dtype=torch.bool).tril() if causal else m
        o_ref, w_ref = _attention(q, k, v, keep)
        what = (f"scaled_dot_product_attention with {rows} fully masked"
                + (" (mask ANDed with is_causal)" if causal else ""))
        for name, t in (("out", out), ("weights", w)):
            expect_tensor(t, shape=(o_ref if name == "out" else w_ref).shape, what=f"{name} of {what}")
            if torch.isnan(t).any():
                raise AssertionError(
                    f"{name} of {what}: expected zeros in the rows with no visible key, got NaN. Likely "
                    f"mistake: NaN on fully masked rows (softmax over a row of -inf is 0/0). Hint: after the "
                    f"softmax, zero the weights where the mask is False (masked_fill(~keep, 0)) or replace "
                    f"those rows; the contract is zeros in both out and weights, never NaN.")
        uniform = (q @ k.transpose(-2, -1)).new_full(w_ref.shape, 1.0 / 7)
        uniform = torch.where(keep.expand_as(w_ref).any(-1, keepdim=True), w_ref, uniform)
        _judge(out, w, o_ref, w_ref,
               [(("fully masked rows got uniform weights 1/Lk (a large negative fill such as -1e9 instead "
                 "of -inf, and the rows were not zeroed)"), uniform @ v, uniform)],
               atol=1e-10, what=what,
               hint="a row where every key is masked must give zeros in both out and weights")


@check(points=1)
def test_leading_shapes_and_float32(ex, rng):
    cases = (((5, 8), (7, 8), (7, 3)), ((2, 2, 2, 5, 4), (2, 2, 2, 6, 4), (2, 2, 2, 6, 4)))
    for sq, sk, sv in cases:
        q, k, v = (_randn(rng, *s, dtype=torch.float32) for s in (sq, sk, sv))
        out, w = _call(ex, q, k, v, is_causal=True)
        o_ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True).float()
        lq, lk = sq[-2], sk[-2]
        _, w_ref = _attention(q.double(), k.double(), v.double(),
                              torch.ones(lq, lk, dtype=torch.bool).tril())
        _judge(out, w, o_ref, w_ref.float(), [], atol=1e-5,
               what=f"scaled_dot_product_attention(is_causal=True) on float32 q{list(sq)}, k{list(sk)}, v{list(sv)}",
               hint="work on the last two axes only (k.transpose(-2, -1), softmax(dim=-1)) so any leading "
                    "batch shape, including none, works; keep the input dtype")


@check(points=1)
def test_gradients(ex, rng):
    q, k, v = (_randn(rng, 2, 5, 6).requires_grad_(), _randn(rng, 2, 7, 6).requires_grad_(),
               _randn(rng, 2, 7, 3).requires_grad_())
    mask = torch.rand(2, 5, 7, generator=rng) < 0.6
    mask[..., 2] = True
    mask[1, 4] = False                                    # a fully masked row: its gradient must be 0, not NaN
    g = _randn(rng, 2, 5, 3)
    (out, w), grads = grad_of(ex.scaled_dot_product_attention, q, k, v, mask, grad_outputs=g)
    o_ref, _ = _attention(q, k, v, mask)
    expected = torch.autograd.grad(o_ref, (q, k, v), g)
    for name, got, exp in zip(("q", "k", "v"), grads, expected):
        assert_close(got, exp, atol=1e-9, rtol=1e-9, what=f"gradient of out wrt {name} (float64, one row "
                     f"fully masked)",
                     hint="build the result from differentiable tensor ops; masked_fill after the softmax "
                          "keeps the gradient of fully masked rows at zero instead of NaN")


@check(points=1)
def test_dropout(ex, rng):
    p = 0.5
    q, k, v = _randn(rng, 8, 32, 16), _randn(rng, 8, 32, 16), _randn(rng, 8, 32, 4)
    out, w = _call(ex, q, k, v, dropout_p=p)
    _, w_ref = _attention(q, k, v)
    expect_tensor(w, shape=w_ref.shape, dtype=F64, what="weights with dropout_p=0.5")
    expect_tensor(out, shape=(8, 32, 4), dtype=F64, what="out with dropout_p=0.5")
    assert_close(out, w @ v, atol=1e-10, rtol=1e-10, what="out with dropout_p=0.5 compared with the returned "
                 "weights @ v",
                 hint="return the weights actually applied: the dropped-out (and rescaled) ones, so that "
                      "out == weights @ v")
    zero = (w == 0).double().mean().item()
    if not 0.44 <= zero <= 0.56:
        raise AssertionError(f"weights with dropout_p=0.5: expected about 50% of the {w.numel()} weights "
                             f"zeroed by dropout, got {zero:.1%}"
                             + (". Likely mistake: dropout_p ignored" if zero < 0.01 else ""))
    kept = w != 0
    assert_close(w[kept], w_ref[kept] / (1 - p), atol=1e-10, rtol=1e-10,
                 what="the weights dropout kept (dropout_p=0.5)",
                 mistakes=[("kept weights not rescaled by 1/(1 - dropout_p) (inverted dropout)", w_ref[kept])],
                 hint="each weight is zeroed with probability dropout_p and the survivors are divided by "
                      "(1 - dropout_p), after the softmax")


def _masked_case(rng, B=2, H=3, lq=5, lk=7, dv=4):
    """q, k, v and a per-head mask where every row keeps key 0 and loses the last key."""
    q, k, v = _randn(rng, B, H, lq, 8), _randn(rng, B, H, lk, 8), _randn(rng, B, H, lk, dv)
    mask = torch.rand(B, 1, lq, lk, generator=rng) < 0.6
    mask[..., 0] = True
    mask[..., -1] = False
    return q, k, v, mask


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    q, k, v, mask = _masked_case(rng)
    what = "scaled_dot_product_attention(q, k, v, mask, is_causal=True)"
    out, w = call_unchanged(ex.scaled_dot_product_attention, q, k, v, mask, is_causal=True,
                            names=("q", "k", "v", "mask"), what=what)
    keep = mask & torch.ones(5, 7, dtype=torch.bool).tril()
    o_ref, w_ref = _attention(q, k, v, keep)
    _judge(out, w, o_ref, w_ref, [], atol=1e-10, what=what)


@check(points=1)
def test_noncontiguous_inputs(ex, rng):
    B, H, L, d = 2, 3, 6, 8
    # q as mha hands it over: [B, L, H, d] with the head axis moved forward (a permuted view); k stored
    # transposed; v one tensor for every head (expanded, stride 0); the mask expanded over the batch
    q = _randn(rng, B, L, H, d).transpose(1, 2)
    k = transposed(_randn(rng, B, H, L, d))
    v = _randn(rng, B, 1, L, 5).expand(B, H, L, 5)
    base = torch.rand(1, 1, L, L, generator=rng) < 0.6
    base[..., 0] = True
    keep = base.expand(B, 1, L, L)
    what = ("scaled_dot_product_attention on non-contiguous inputs (q permuted from [B, L, H, d], k transposed "
            "in memory, v and mask expanded with stride 0)")
    with explain_layout_errors(what):
        out, w = _call(ex, q, k, v, keep)
    o_ref, w_ref = _attention(q, k, v, keep)
    _judge(out, w, o_ref, w_ref, [], atol=1e-10, what=what,
           hint="work with whatever layout arrives: reshape instead of view, no assumption of contiguity")


@check(points=1, covers=("device",))
def test_device_follows_inputs(ex, rng):
    q, k, v, mask = _masked_case(rng)
    for args, kw, label in (((q, k, v), {"is_causal": True}, "is_causal=True"),
                            ((q, k, v, mask), {"is_causal": True}, "a mask and is_causal=True"),
                            ((q, k, v, mask), {"dropout_p": 0.5}, "a mask and dropout_p=0.5")):
        what = f"scaled_dot_product_attention with {label}"
        res = expect_device_follows(ex.scaled_dot_product_attention, *args, what=what, **kw)
        if not (isinstance(res, tuple) and len(res) == 2):
            raise AssertionError(f"{what}: expected a tuple (out, weights), got {type(res).__name__}")
        expect_tensor(res[0], shape=(2, 3, 5, 4), dtype=F64, what=f"out of {what} on meta inputs")
        expect_tensor(res[1], shape=(2, 3, 5, 7), dtype=F64, what=f"weights of {what} on meta inputs")


def _speed_inputs(rng):
    """(label, args, threshold name). Measured on one CPU thread:
    A: many queries over a short key set. A Python loop over the queries costs 130-1000x the reference;
       memory-heavy vectorised forms such as (q[..., :, None, :] * k[..., None, :, :]).sum(-1) cost 3-7x,
       hence the looser limit speed_max_ratio_queries (20x).
    B: 8192 tiny heads. A loop over the leading batch / head axes costs 45-70x; broadcasting forms ~1.3x
       (batched matmul of tiny matrices is not faster than broadcasting), so the usual speed_max_ratio (8x)."""
    f32 = torch.float32
    a = (_randn(rng, 1, 1, 4096, 8, dtype=f32),
         _randn(rng, 1, 1, 32, 8, dtype=f32), _randn(rng, 1, 1, 32, 8, dtype=f32))
    b = tuple(_randn(rng, 512, 16, 2, 8, dtype=f32) for _ in range(3))
    return (("q[1,1,4096,8], k/v[1,1,32,8]", a, "speed_max_ratio_queries"),
            ("q/k/v[512,16,2,8]", b, "speed_max_ratio"))


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    for label, args, limit in _speed_inputs(rng):
        assert_fast(ex.scaled_dot_product_attention, ref.scaled_dot_product_attention, *args,
                    max_ratio=exercise.threshold(limit), what=f"scaled_dot_product_attention on {label}")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    q, k, v = _randn(rng, 2, 2, 6, 8), _randn(rng, 2, 2, 6, 8), _randn(rng, 2, 2, 6, 4)
    mask = torch.rand(2, 1, 6, 6, generator=rng) < 0.7
    mask[..., 0] = True
    mask[0, 0, 3, :] = False
    o_cpu, w_cpu = _attention(q, k, v, mask & torch.ones(6, 6, dtype=torch.bool).tril())
    out, w = _call(ex, *(t.float().to(device) for t in (q, k, v)), mask.to(device), is_causal=True)
    expect_tensor(out, shape=o_cpu.shape, dtype=torch.float32, device=device, what="out on the GPU")
    expect_tensor(w, shape=w_cpu.shape, dtype=torch.float32, device=device, what="weights on the GPU")
    assert_close(w, w_cpu, atol=1e-4, rtol=1e-4, what="weights on the GPU vs the float64 CPU oracle",
                 hint="create every new tensor (masks, fills) on q.device")
    assert_close(out, o_cpu, atol=1e-4, rtol=1e-4, what="out on the GPU vs the float64 CPU oracle",
                 hint="create every new tensor (masks, fills) on q.device")
