"""Grader for ch10.encoder: TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, norm_first=True)."""
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
E, H, FF = 16, 4, 24


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _oracle(rng, norm_first, dropout=0.0):
    """nn.TransformerEncoderLayer in float64, every parameter (LayerNorm and biases included) randomised."""
    m = nn.TransformerEncoderLayer(E, H, FF, dropout=dropout, batch_first=True, norm_first=norm_first, dtype=F64)
    sd = {}
    for k, v in m.state_dict().items():
        r = _randn(rng, *v.shape)
        sd[k] = 1.0 + 0.3 * r if k.startswith("norm") and k.endswith("weight") else r / math.sqrt(v.shape[-1])
    m.load_state_dict(sd)
    return m, sd


def _learner(ex, sd, norm_first, dropout=0.0):
    h = ex.TransformerEncoderLayer(E, H, FF, dropout=dropout, norm_first=norm_first)
    h.double()
    load_state(h, sd)
    return h


def _nn_mask(keep, B, L):
    return (~keep.expand(B, H, L, L)).reshape(B * H, L, L)


def _variants(m, x, keep=None):
    """What the known mistakes compute, built from the oracle's own sublayers."""
    am = None if keep is None else _nn_mask(keep, x.shape[0], x.shape[1])

    def sa(t):
        return m.self_attn(t, t, t, attn_mask=am, need_weights=False)[0]

    def ff(t):
        return m.linear2(F.relu(m.linear1(t)))

    n1, n2 = m.norm1, m.norm2
    with torch.no_grad():
        if m.norm_first:
            a = x + sa(n1(x))
            h1 = n1(x)
            h2 = h1 + sa(h1)
            return [
                (("residual around the wrong sublayer: the residual adds the normalised input norm1(x) instead "
                 "of x (pre-norm is x + sublayer(norm(x)))"), n2(h2) + ff(n2(h2))),
                (("residual around the wrong sublayer: the feed-forward residual starts from the layer input x "
                 "instead of the attention block's output"), x + ff(n2(a))),
                ("residual around the wrong sublayer: one residual around both sublayers, x + ff(sa(x))",
                 x + ff(n2(sa(n1(x))))),
                ("norm_first ignored: post-norm computed (norm after the residual add)",
                 n2((b := n1(x + sa(x))) + ff(b))),
                ("norm1 and norm2 swapped", (c := x + sa(n2(x))) + ff(n1(c))),
                ("no residual connections", ff(n2(sa(n1(x))))),
            ]
        b = n1(x + sa(x))
        return [
            (("residual around the wrong sublayer: the feed-forward residual starts from the layer input x "
             "instead of the attention block's output"), n2(x + ff(b))),
            ("residual around the wrong sublayer: the norm went inside the branch, x + norm(sublayer(x))",
             (c := x + n1(sa(x))) + n2(ff(c))),
            ("residual around the wrong sublayer: one residual around both sublayers, norm(x + ff(sa(x)))",
             n2(x + ff(sa(x)))),
            ("norm_first ignored: pre-norm computed (norm inside the branch, before the sublayer)",
             (d := x + sa(n1(x))) + ff(n2(d))),
            ("norm1 and norm2 swapped", n1((e := n2(x + sa(x))) + ff(e))),
        ]


def _judge(out, expected, mistakes, what):
    expect_tensor(out, shape=expected.shape, dtype=expected.dtype, what=what)
    assert_close(out, expected, atol=1e-10, rtol=1e-10, what=what, mistakes=mistakes,
                 hint="pre-norm: x = x + SA(norm1(x)); x = x + FF(norm2(x)).  post-norm: x = norm1(x + SA(x)); "
                      "x = norm2(x + FF(x)).  FF(x) = linear2(relu(linear1(x)))")


@check(points=1)
def test_parameters(ex):
    h = ex.TransformerEncoderLayer(E, H, FF)
    got = {k: tuple(v.shape) for k, v in params(h).items()}
    want = {k: tuple(v.shape) for k, v in nn.TransformerEncoderLayer(E, H, FF, batch_first=True).named_parameters()}
    if got != want:
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        wrong = sorted(f"{k}: expected {want[k]}, got {got[k]}" for k in set(want) & set(got) if want[k] != got[k])
        raise AssertionError(f"TransformerEncoderLayer({E}, {H}, {FF}): the parameters must be named and shaped "
                             f"like nn.TransformerEncoderLayer: expected {sorted(want.items())}, got "
                             f"{sorted(got.items())}. Missing: {missing}; unexpected: {extra}; wrong shape: {wrong}")


@check(points=2)
def test_pre_norm(ex, rng):
    m, sd = _oracle(rng, norm_first=True)
    h = _learner(ex, sd, norm_first=True)
    x = _randn(rng, 3, 7, E)
    _judge(h(x), m(x), _variants(m, x),
           f"TransformerEncoderLayer({E}, {H}, {FF}, norm_first=True)(src[3,7,{E}]) vs nn.TransformerEncoderLayer "
           f"with the same weights (float64)")


@check(points=2)
def test_post_norm(ex, rng):
    m, sd = _oracle(rng, norm_first=False)
    h = _learner(ex, sd, norm_first=False)
    x = _randn(rng, 3, 7, E)
    _judge(h(x), m(x), _variants(m, x),
           f"TransformerEncoderLayer({E}, {H}, {FF}, norm_first=False)(src[3,7,{E}]) vs nn.TransformerEncoderLayer "
           f"with the same weights (float64)")


@check(points=1)
def test_masks(ex, rng):
    m, sd = _oracle(rng, norm_first=True)
    h = _learner(ex, sd, norm_first=True)
    B, L = 2, 6
    x = _randn(rng, B, L, E)
    tril = torch.ones(L, L, dtype=torch.bool).tril()
    cases = [({"is_causal": True}, tril, "is_causal=True")]
    for label, mask, keep in mask_ranks(rng, B, L, L):
        cases += [({"mask": mask}, keep, label), ({"mask": mask, "is_causal": True}, keep & tril,
                                                  f"{label} and is_causal=True")]
    for kw, keep, label in cases:
        mistakes = []
        if "is_causal" in kw:
            no_causal = kw["mask"] if "mask" in kw else None
            mistakes.append(("is_causal ignored", m(x, src_mask=None if no_causal is None else
                                                    _nn_mask(_keep4(no_causal), B, L))))
        if "mask" in kw:
            mistakes.append(("mask ignored", m(x, src_mask=_nn_mask(tril, B, L) if "is_causal" in kw else None)))
        what = f"TransformerEncoderLayer(norm_first=True) with {label}"
        try:
            out = h(x, **kw)
        except LearnerError as e:
            if "mask" in kw and kw["mask"].dim() == 3 and "must match the size" in e.message:
                raise AssertionError(
                    f"{what}: {e.message}. Likely mistake: a rank-3 mask [B, L, L] (one per sequence) broadcast "
                    f"against the scores [B, n_heads, L, L] as if it were [1, B, L, L]; give it its head axis "
                    f"first (mask.unsqueeze(1)).") from None
            raise
        _judge(out, m(x, src_mask=_nn_mask(keep, B, L)), mistakes, what)


def _keep4(mask):
    """A mask of any accepted rank as [B or 1, 1, L, L]."""
    return mask.unsqueeze(1) if mask.dim() == 3 else mask


@check(points=1)
def test_gradients(ex, rng):
    m, sd = _oracle(rng, norm_first=False)
    h = _learner(ex, sd, norm_first=False)
    x = _randn(rng, 2, 5, E)
    g = _randn(rng, 2, 5, E)
    _, (gx,) = grad_of(h, x.clone().requires_grad_(), grad_outputs=g)
    xr = x.clone().requires_grad_()
    m(xr).backward(g)
    assert_close(gx, xr.grad, atol=1e-9, rtol=1e-9, what="gradient wrt src (float64, norm_first=False)")
    assert_grads_close(param_grads(h), {name: p.grad for name, p in m.named_parameters()}, atol=1e-9, rtol=1e-9,
                       what="float64, norm_first=False")


@check(points=1)
def test_dropout_train_eval(ex, rng):
    m, sd = _oracle(rng, norm_first=True, dropout=0.3)
    h = _learner(ex, sd, norm_first=True, dropout=0.3)
    x = _randn(rng, 2, 5, E)
    h.eval()
    m.eval()
    _judge(h(x), m(x), [], "TransformerEncoderLayer(dropout=0.3) in eval mode")
    h.train()
    out = h(x)
    expect_tensor(out, shape=x.shape, what="TransformerEncoderLayer(dropout=0.3) in training mode")
    if torch.allclose(out, m(x), atol=1e-9):
        raise AssertionError("TransformerEncoderLayer(dropout=0.3) in training mode: expected dropout to change the "
                             "output, got exactly the eval-mode output. Likely mistake: dropout ignored (apply it "
                             "to each sublayer's output before the residual add)")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    for norm_first in (True, False):
        m, sd = _oracle(rng, norm_first=norm_first)
        h = _learner(ex, sd, norm_first=norm_first)
        src = _randn(rng, 2, 6, E)
        for label, mask, keep in mask_ranks(rng, 2, 6, 6):
            what = f"TransformerEncoderLayer(norm_first={norm_first})(src, mask=<{label}>, is_causal=True)"
            out = call_unchanged(h, src, mask=mask, is_causal=True, names=("src",), what=what)
            keep = keep & torch.ones(6, 6, dtype=torch.bool).tril()
            _judge(out, m(src, src_mask=_nn_mask(keep, 2, 6)), [], what)


@check(points=1)
def test_noncontiguous_inputs(ex, rng):
    m, sd = _oracle(rng, norm_first=False)
    h = _learner(ex, sd, norm_first=False)
    src = _randn(rng, 7, 3, E).transpose(0, 1)             # [B, L, E] stored sequence-first
    what = f"TransformerEncoderLayer(norm_first=False) on src[3,7,{E}] stored sequence-first (src.transpose(0, 1))"
    with explain_layout_errors(what):
        out = h(src, is_causal=True)
    _judge(out, m(src, src_mask=_nn_mask(torch.ones(7, 7, dtype=torch.bool).tril(), 3, 7)), [], what)


@check(points=1, covers=("device",))
def test_device_follows_inputs(ex, impl, rng):
    x = _randn(rng, 2, 6, E, dtype=torch.float32)
    padding = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    padding[1, ..., 3:] = False
    for norm_first in (True, False):
        for kw, label in (({"is_causal": True}, "is_causal=True"),
                          ({"mask": padding, "is_causal": True}, "a key-padding mask and is_causal=True")):
            what = f"TransformerEncoderLayer({E}, {H}, {FF}, norm_first={norm_first}) with {label}"
            def make(nf=norm_first):
                return ex.TransformerEncoderLayer(E, H, FF, norm_first=nf)
            out = expect_module_device_follows(make, impl.lib("torch"), x, what=what, **kw)
            expect_tensor(out, shape=(2, 6, E), what=f"{what}, on meta")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # A: one sequence with 512 heads of size 1 (a loop over the heads: 512 iterations); B: 1024 sequences of
    # length 2 (a loop over the batch). What was measured is in chapter.toml.
    for (B, L, d, heads, ff), loops in (((1, 4, 512, 512, 16), "the heads"), ((1024, 2, 16, 1, 16), "the batch")):
        x = _randn(rng, B, L, d, dtype=torch.float32)
        state = nn.TransformerEncoderLayer(d, heads, ff, batch_first=True).state_dict()
        mine, theirs = ex.TransformerEncoderLayer(d, heads, ff), ref.TransformerEncoderLayer(d, heads, ff)
        load_state(mine, state)                 # the same weights on both sides, so that timed results compare
        load_state(theirs, state)
        assert_fast(mine, theirs, x, max_ratio=exercise.threshold("speed_max_ratio"),
                    what=f"TransformerEncoderLayer({d}, {heads}, {ff}).forward(x[{B},{L},{d}]) (a loop over "
                         f"{loops} is what this times)")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    m, sd = _oracle(rng, norm_first=True)
    h = _learner(ex, sd, norm_first=True)
    h.float()
    h.to(device)
    x = _randn(rng, 2, 6, E)
    out = h(x.float().to(device), is_causal=True)
    expect_tensor(out, shape=x.shape, dtype=torch.float32, device=device, what="the output on the GPU")
    expected = m(x, src_mask=_nn_mask(torch.ones(6, 6, dtype=torch.bool).tril(), 2, 6))
    assert_close(out, expected, atol=1e-4, rtol=1e-4, what="the output on the GPU vs the float64 CPU oracle",
                 hint="create every new tensor (masks) on the input's device")
