"""Grader for ch10.mha: MultiHeadAttention(d_model, n_heads, dropout=0.0, bias=True), batch first."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from support.attention import expect_module_device_follows, mask_ranks
from support.layouts import explain_layout_errors

from torchcourse.grading import (
    LearnerError,
    assert_close,
    assert_fast,
    assert_grads_close,
    call_unchanged,
    check,
    expect_tensor,
    forbidden_api_check,
    grad_of,
    load_state,
    param_grads,
    params,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
E, H = 16, 4


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _oracle(rng, bias=True, dropout=0.0):
    """nn.MultiheadAttention in float64 with every parameter (biases included) randomised."""
    m = nn.MultiheadAttention(E, H, dropout=dropout, bias=bias, batch_first=True, dtype=F64)
    sd = {k: _randn(rng, *v.shape) / math.sqrt(E) + (0.1 if "bias" in k else 0.0)
          for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    return m, sd


def _learner(ex, sd, bias=True, dropout=0.0):
    h = ex.MultiHeadAttention(E, H, dropout=dropout, bias=bias)
    h.double()
    load_state(h, sd)
    return h


def _nn_mask(keep, B, lq, lk):
    """Our keep-mask (True = may attend) as nn.MultiheadAttention's attn_mask (True = blocked, [B*H, Lq, Lk])."""
    return (~keep.expand(B, H, lq, lk)).reshape(B * H, lq, lk)


def _mha(query, key, value, sd, keep=None, *, split="ok", out_proj=True, scale_dim=None, reduce="mean"):
    """Trusted functional multi-head attention; rows with no visible key give zero weights.
    The keyword arguments reproduce the known mistakes."""
    B, lq, _ = query.shape
    lk = key.shape[1]
    hd = E // H
    b = sd.get("in_proj_bias")
    (wq, wk, wv), (bq, bk, bv) = sd["in_proj_weight"].chunk(3), b.chunk(3) if b is not None else (None,) * 3
    q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def heads(t, L):
        if split == "strided":                      # head h gets features h, h+H, h+2H, ...
            return t.reshape(B, L, hd, H).permute(0, 3, 1, 2)
        if split == "no_transpose":                 # view(B, H, L, hd) straight from [B, L, E]
            return t.reshape(B, H, L, hd)
        return t.reshape(B, L, H, hd).transpose(1, 2)

    def merge(y):
        if split == "strided":
            return y.permute(0, 2, 3, 1).reshape(B, lq, E)
        if split == "no_transpose":
            return y.reshape(B, lq, E)
        return y.transpose(1, 2).reshape(B, lq, E)

    qh, kh, vh = heads(q, lq), heads(k, lk), heads(v, lk)
    s = qh @ kh.transpose(-2, -1) / math.sqrt(scale_dim or hd)
    if keep is None:
        w = s.softmax(-1)
    else:
        keep = keep.expand_as(s)
        valid = keep.any(-1, keepdim=True)
        w = s.masked_fill(~(keep | ~valid), float("-inf")).softmax(-1) * valid
    y = merge(w @ vh)
    out = F.linear(y, sd["out_proj.weight"], sd.get("out_proj.bias")) if out_proj else y
    return out, (w.mean(1) if reduce == "mean" else w.sum(1) if reduce == "sum" else w[:, 0])


def _mistakes(query, key, value, sd, keep=None):
    def m(**kw):
        return _mha(query, key, value, sd, keep, **kw)

    return [
        (("heads split on the wrong axis: view(B, L, E) as (B, L, head_dim, n_heads), so head h took the "
         "strided features h::n_heads instead of the contiguous block h*head_dim:(h+1)*head_dim"), m(split="strided")),
        (("heads split with view(B, n_heads, L, head_dim) directly, without view(B, L, n_heads, head_dim)"
         ".transpose(1, 2): positions and heads got mixed"), m(split="no_transpose")),
        ("missing output projection: out_proj is never applied", m(out_proj=False)),
        ("scores scaled by 1/sqrt(d_model) instead of 1/sqrt(head_dim)", m(scale_dim=E)),
        ("weights summed over heads instead of averaged", m(reduce="sum")),
        ("weights of the first head returned instead of the average over heads", m(reduce="first")),
    ]


def _call(h, *args, **kw):
    res = h(*args, **kw)
    if not (isinstance(res, tuple) and len(res) == 2):
        raise AssertionError(f"MultiHeadAttention.forward must return a tuple (out, weights averaged over "
                             f"heads), got {type(res).__name__}")
    return res


def _judge(res, expected, mistakes, *, what, atol=1e-10, hint=None):
    out, w = res
    o_ref, w_ref = expected
    expect_tensor(out, shape=o_ref.shape, dtype=o_ref.dtype, what=f"out of {what}")
    if isinstance(w, torch.Tensor) and w.dim() == 4:
        raise AssertionError(f"weights of {what}: expected shape {tuple(w_ref.shape)} [B, Lq, Lk], got "
                             f"{tuple(w.shape)}. Likely mistake: per-head weights returned; average them over "
                             f"the heads (like nn.MultiheadAttention's average_attn_weights=True)")
    expect_tensor(w, shape=w_ref.shape, dtype=w_ref.dtype, what=f"weights of {what}")
    hint = hint or ("project q, k, v with the three row blocks of in_proj_weight, split E into (n_heads, "
                    "head_dim) with view(B, L, n_heads, head_dim).transpose(1, 2), attend, merge back, out_proj")
    assert_close(w, w_ref, atol=atol, rtol=atol, what=f"weights of {what}", hint=hint,
                 mistakes=[(n, mw) for n, (_, mw) in mistakes])
    assert_close(out, o_ref, atol=atol, rtol=atol, what=f"out of {what}", hint=hint,
                 mistakes=[(n, mo) for n, (mo, _) in mistakes])


@check(points=1)
def test_parameters(ex):
    for bias in (True, False):
        h = ex.MultiHeadAttention(E, H, bias=bias)
        got = {k: tuple(v.shape) for k, v in params(h).items()}
        want = {k: tuple(v.shape) for k, v in
                nn.MultiheadAttention(E, H, bias=bias, batch_first=True).named_parameters()}
        if got != want:
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            wrong = sorted(f"{k}: expected {want[k]}, got {got[k]}" for k in set(want) & set(got) if want[k] != got[k])
            msg = (f"MultiHeadAttention({E}, {H}, bias={bias}): the parameters must be named and shaped like "
                   f"nn.MultiheadAttention(batch_first=True): expected {sorted(want.items())}, got "
                   f"{sorted(got.items())}. Missing: {missing}; unexpected: {extra}; wrong shape: {wrong}")
            if any(k.startswith("out_proj") for k in missing):
                msg += "\n  Likely mistake: missing output projection (self.out_proj = nn.Linear(E, E, bias=bias))"
            if not bias and "in_proj_bias" in got:
                msg += "\n  Hint: with bias=False there is no in_proj_bias (register_parameter('in_proj_bias', None))"
            raise AssertionError(msg)


@check(points=3)
def test_self_attention(ex, rng):
    m, sd = _oracle(rng)
    h = _learner(ex, sd)
    x = _randn(rng, 3, 6, E)
    expected = m(x, x, x, need_weights=True)
    _judge(_call(h, x), expected, _mistakes(x, x, x, sd),
           what=f"MultiHeadAttention({E}, {H}) self-attention forward(x[3,6,{E}]) (float64, weights copied "
                f"from nn.MultiheadAttention)")


@check(points=1)
def test_cross_attention_and_no_bias(ex, rng):
    for bias in (True, False):
        m, sd = _oracle(rng, bias=bias)
        h = _learner(ex, sd, bias=bias)
        q, k, v = _randn(rng, 2, 5, E), _randn(rng, 2, 7, E), _randn(rng, 2, 7, E)
        _judge(_call(h, q, k, v), m(q, k, v), _mistakes(q, k, v, sd),
               what=f"MultiHeadAttention(bias={bias}).forward(query[2,5,E], key[2,7,E], value[2,7,E])")
        _judge(_call(h, q, k), m(q, k, k), _mistakes(q, k, k, sd),
               what=f"MultiHeadAttention(bias={bias}).forward(query, key) (value defaults to key)")


def _call_masked(h, x, keep_label, rank, **kw):
    """``h(x, **kw)``, explaining the error of a rank-3 mask broadcast without its head axis (with B=2 and
    n_heads=4 the batch axis of the mask cannot meet the head axis of the scores)."""
    try:
        return _call(h, x, **kw)
    except LearnerError as e:
        if rank == 3 and "must match the size" in e.message:
            raise AssertionError(
                f"MultiHeadAttention with {keep_label}: {e.message}. Likely mistake: a rank-3 mask [B, Lq, Lk] "
                f"(one per sequence) broadcast against the scores [B, n_heads, Lq, Lk] as if it were "
                f"[1, B, Lq, Lk]; give it its head axis first (mask.unsqueeze(1)).") from None
        raise


@check(points=2)
def test_masks(ex, rng):
    m, sd = _oracle(rng)
    h = _learner(ex, sd)
    B, lq, lk = 2, 6, 6
    x = _randn(rng, B, lq, E)
    tril = torch.ones(lq, lk, dtype=torch.bool).tril()
    cases = [({"is_causal": True}, tril, "is_causal=True", 0)]
    for label, mask, keep in mask_ranks(rng, B, lq, lk):
        cases.append(({"mask": mask}, keep, label, mask.dim()))
        cases.append(({"mask": mask, "is_causal": True}, keep & tril, f"{label} and is_causal=True", mask.dim()))
    i, j = torch.arange(lq).unsqueeze(1), torch.arange(lk).unsqueeze(0)
    for kw, keep, label, rank in cases:
        expected = m(x, x, x, attn_mask=_nn_mask(keep, B, lq, lk))
        extra = [("mask inverted: True must mean *may attend*", _mha(x, x, x, sd, ~keep)),
                 ("mask ignored", _mha(x, x, x, sd)),
                 ("causal off-by-one: diagonal excluded (j < i); keep j <= i",
                  _mha(x, x, x, sd, (keep & (j < i)) if "is_causal" in kw else None))]
        _judge(_call_masked(h, x, label, rank, **kw), expected, extra + _mistakes(x, x, x, sd, keep),
               what=f"MultiHeadAttention self-attention with {label}",
               hint="True = may attend; a mask of rank 2 [Lq, Lk], 3 [B, Lq, Lk] or 4 [B, 1 or n_heads, Lq, Lk] "
                    "is broadcast against the scores [B, n_heads, Lq, Lk] (rank 3: unsqueeze(1) first)")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    _, sd = _oracle(rng)
    h = _learner(ex, sd)
    q, k, v = _randn(rng, 2, 5, E), _randn(rng, 2, 7, E), _randn(rng, 2, 7, E)
    for label, mask, keep in mask_ranks(rng, 2, 5, 7):
        what = f"MultiHeadAttention.forward(query, key, value, mask=<{label}>, is_causal=True)"
        res = call_unchanged(h, q, k, v, mask=mask, is_causal=True, names=("query", "key", "value"), what=what)
        _judge(res, _mha(q, k, v, sd, keep & torch.ones(5, 7, dtype=torch.bool).tril()), [], what=what)


@check(points=1)
def test_noncontiguous_inputs(ex, rng):
    m, sd = _oracle(rng)
    h = _learner(ex, sd)
    x = _randn(rng, 6, 3, E).transpose(0, 1)               # [B, L, E] stored sequence-first
    kv = _randn(rng, 3, 9, 2 * E)[..., ::2]                # every other feature: a strided slice
    for args, label in (((x,), "self-attention on x[3,6,E] stored sequence-first (x.transpose(0, 1))"),
                        ((x, kv, kv), "cross-attention on a key/value sliced with a step (t[..., ::2])")):
        what = f"MultiHeadAttention {label}"
        with explain_layout_errors(what):
            res = _call(h, *args, is_causal=True)
        keep = torch.ones(6, args[-1].shape[1], dtype=torch.bool).tril()
        _judge(res, m(args[0], args[-1], args[-1], attn_mask=_nn_mask(keep, 3, 6, args[-1].shape[1])),
               [], what=what)


@check(points=1, covers=("device",))
def test_device_follows_inputs(ex, impl, rng):
    x = _randn(rng, 2, 6, E, dtype=torch.float32)
    padding = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    padding[0, ..., 4:] = False
    for kw, label in (({"is_causal": True}, "is_causal=True"),
                      ({"mask": padding, "is_causal": True}, "a key-padding mask and is_causal=True")):
        res = expect_module_device_follows(lambda: ex.MultiHeadAttention(E, H), impl.lib("torch"), x,
                                           what=f"MultiHeadAttention({E}, {H}) with {label}", **kw)
        if not (isinstance(res, tuple) and len(res) == 2):
            raise AssertionError(f"MultiHeadAttention.forward must return a tuple (out, weights), got "
                                 f"{type(res).__name__}")
        expect_tensor(res[0], shape=(2, 6, E), what=f"out of MultiHeadAttention with {label} on meta")
        expect_tensor(res[1], shape=(2, 6, 6), what=f"weights of MultiHeadAttention with {label} on meta")


@check(points=1)
def test_fully_masked_row(ex, rng):
    _, sd = _oracle(rng)
    h = _learner(ex, sd)
    q, k = _randn(rng, 2, 4, E), _randn(rng, 2, 5, E)
    keep = torch.rand(2, 1, 4, 5, generator=rng) < 0.6
    keep[..., 0] = True
    keep[1, 0, 2] = False                                  # batch 1, query 2 sees nothing
    out, w = _call(h, q, k, mask=keep)
    what = "MultiHeadAttention with query 2 of batch 1 fully masked"
    for name, t in (("out", out), ("weights", w)):
        if isinstance(t, torch.Tensor) and torch.isnan(t).any():
            raise AssertionError(f"{name} of {what}: expected no NaN (zero weights, so out = out_proj.bias), "
                                 f"got NaN. Likely mistake: NaN on fully masked rows (softmax over a row of "
                                 f"-inf); zero those rows after the softmax")
    _judge((out, w), _mha(q, k, k, sd, keep), _mistakes(q, k, k, sd, keep), what=what,
           hint="a query with no visible key gets all-zero weights, so its output is out_proj.bias")


@check(points=1)
def test_gradients(ex, rng):
    m, sd = _oracle(rng)
    h = _learner(ex, sd)
    x = _randn(rng, 2, 5, E)
    g = _randn(rng, 2, 5, E)
    _, (gx,) = grad_of(h, x.clone().requires_grad_(), grad_outputs=g, is_causal=True)
    xr = x.clone().requires_grad_()
    m(xr, xr, xr, attn_mask=_nn_mask(torch.ones(5, 5, dtype=torch.bool).tril(), 2, 5, 5))[0].backward(g)
    assert_close(gx, xr.grad, atol=1e-9, rtol=1e-9, what="gradient of out wrt the input (float64, is_causal=True)")
    assert_grads_close(param_grads(h), {name: p.grad for name, p in m.named_parameters()}, atol=1e-9, rtol=1e-9,
                       what="float64, is_causal=True")


@check(points=1)
def test_dropout(ex, rng):
    m, sd = _oracle(rng, dropout=0.5)
    h = _learner(ex, sd, dropout=0.5)
    x = _randn(rng, 1, 6, E).expand(256, 6, E).contiguous()   # one sequence, 256 independent dropout draws
    h.eval()
    m.eval()
    _judge(_call(h, x[:2]), m(x[:2], x[:2], x[:2]), [], what="MultiHeadAttention(dropout=0.5) in eval mode",
           hint="dropout is active only in training mode (self.training)")
    h.train()
    out, w = _call(h, x)
    expect_tensor(w, shape=(256, 6, 6), what="weights of MultiHeadAttention(dropout=0.5) in training mode")
    w_eval = m(x[:1], x[:1], x[:1])[1]
    if torch.allclose(w, w_eval.expand_as(w), atol=1e-12):
        raise AssertionError("MultiHeadAttention(dropout=0.5) in training mode: expected dropout on the attention "
                             "weights, got exactly the eval-mode weights. Likely mistake: dropout ignored")
    row = w.sum(-1).mean().item()
    if abs(row - 1.0) > 0.1:
        raise AssertionError(f"MultiHeadAttention(dropout=0.5) in training mode: the weights' rows should sum to "
                             f"1 on average (inverted dropout divides the kept weights by 1 - p), got {row:.3f}"
                             + (". Likely mistake: kept weights not rescaled by 1/(1 - p)" if abs(row - 0.5) < 0.1
                                else ""))


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 128 short sequences x 32 tiny heads: a Python loop over batch and heads runs 4096 iterations (~100x
    # the reference on one CPU thread), while memory-heavy vectorised forms measure ~1-4x
    x = _randn(rng, 128, 4, 64, dtype=torch.float32)
    state = nn.MultiheadAttention(64, 32, batch_first=True).state_dict()   # the same weights on both sides, so
    mine, theirs = ex.MultiHeadAttention(64, 32), ref.MultiHeadAttention(64, 32)   # that timed results compare
    load_state(mine, state)
    load_state(theirs, state)
    assert_fast(mine, theirs, x, max_ratio=exercise.threshold("speed_max_ratio"),
                what="MultiHeadAttention(64, 32).forward(x[128,4,64])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    _, sd = _oracle(rng)
    h = _learner(ex, sd)
    h.float()
    h.to(device)
    x = _randn(rng, 2, 6, E)
    keep = torch.ones(6, 6, dtype=torch.bool).tril()
    keep[0, 0] = False                                     # query 0 sees nothing
    o_ref, w_ref = _mha(x, x, x, sd, keep)
    out, w = _call(h, x.float().to(device), mask=keep.to(device))
    expect_tensor(out, shape=o_ref.shape, dtype=torch.float32, device=device, what="out on the GPU")
    expect_tensor(w, shape=w_ref.shape, dtype=torch.float32, device=device, what="weights on the GPU")
    assert_close(w, w_ref, atol=1e-4, rtol=1e-4, what="weights on the GPU vs the float64 CPU oracle",
                 hint="create every new tensor (masks, fills) on the input's device")
    assert_close(out, o_ref, atol=1e-4, rtol=1e-4, what="out on the GPU vs the float64 CPU oracle",
                 hint="create every new tensor (masks, fills) on the input's device")
