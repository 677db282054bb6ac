"""Grader for ch10.patches: PatchEmbedding(img_size, patch_size, in_ch, d_model), the ViT patch embedding."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from support.attention import expect_module_device_follows
from support.layouts import explain_layout_errors

from torchcourse.grading import (
    assert_close,
    assert_fast,
    assert_grads_close,
    call_unchanged,
    check,
    expect_raises,
    expect_tensor,
    forbidden_api_check,
    grad_of,
    load_state,
    param_grads,
    params,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _setup(ex, rng, img, p, c, d, dtype=F64):
    """The learner's module and a conv oracle sharing randomised weights: a conv with kernel = stride = p is
    exactly a linear map of each patch flattened in (c, ph, pw) order."""
    sd = {"proj.weight": _randn(rng, d, c * p * p), "proj.bias": _randn(rng, d)}
    conv = nn.Conv2d(c, d, kernel_size=p, stride=p, dtype=F64)
    with torch.no_grad():
        conv.weight.copy_(sd["proj.weight"].reshape(d, c, p, p))
        conv.bias.copy_(sd["proj.bias"])
    h = ex.PatchEmbedding(img, p, c, d)
    h.to(dtype)
    load_state(h, sd)
    return h, conv, sd


def _conv_ref(conv, x):
    return conv(x).flatten(2).transpose(1, 2)          # [B, d, gh, gw] -> [B, N, d], row-major patches


def _mistakes(x, sd, p):
    B, C, Hh, W = x.shape
    g = Hh // p
    blocks = x.reshape(B, C, g, p, g, p)                 # [B, C, gh, ph, gw, pw]

    def lin(t):
        return F.linear(t.reshape(B, g * g, C * p * p), sd["proj.weight"], sd["proj.bias"])
    return [
        ("patch order: pixels flattened in (ph, pw, c) order (channels last) instead of (c, ph, pw)",
         lin(blocks.permute(0, 2, 4, 3, 5, 1))),
        ("patch order: patches taken column-major (down each column first) instead of row-major",
         lin(blocks.permute(0, 4, 2, 1, 3, 5))),
        ("patch order: rows and columns swapped inside each patch, (c, pw, ph) instead of (c, ph, pw)",
         lin(blocks.permute(0, 2, 4, 1, 5, 3))),
        ("patch order: reshaped to [B, N, C*p*p] without permuting, so a 'patch' is not a p x p block",
         lin(x)),
        ("patch order: (ph, pw, c) flattening and column-major patches", lin(blocks.permute(0, 4, 2, 3, 5, 1))),
    ]


def _judge(h, conv, sd, x, p, what, atol=1e-10):
    out = h(x)
    expected = _conv_ref(conv, x.double()).to(x.dtype)
    expect_tensor(out, shape=expected.shape, dtype=x.dtype, what=what)
    assert_close(out, expected, atol=atol, rtol=atol, what=what,
                 mistakes=[(n, t.to(x.dtype)) for n, t in _mistakes(x.double(), sd, p)],
                 hint="x.reshape(B, C, H/p, p, W/p, p), permute to [B, H/p, W/p, C, p, p], flatten to "
                      "[B, N, C*p*p], then proj; patch n is at grid row n // (W/p), column n % (W/p)")


@check(points=1)
def test_parameters(ex):
    h = ex.PatchEmbedding(12, 4, 3, 10)
    got = {k: tuple(v.shape) for k, v in params(h).items()}
    want = {"proj.weight": (10, 48), "proj.bias": (10,)}
    if got != want:
        raise AssertionError(f"PatchEmbedding(12, 4, 3, 10): expected exactly the parameters {want} (proj = "
                             f"nn.Linear(in_ch * p * p, d_model)), got {got}")


@check(points=3)
def test_matches_conv(ex, rng):
    h, conv, sd = _setup(ex, rng, img=12, p=4, c=3, d=10)
    _judge(h, conv, sd, _randn(rng, 2, 3, 12, 12), 4,
           "PatchEmbedding(12, 4, 3, 10)(x[2,3,12,12]) vs the conv-based reference (float64)")


@check(points=1)
def test_other_sizes_float32(ex, rng):
    for img, p, c, d in ((6, 2, 1, 5), (8, 8, 2, 4), (10, 5, 4, 3)):
        h, conv, sd = _setup(ex, rng, img, p, c, d, dtype=torch.float32)
        _judge(h, conv, sd, _randn(rng, 3, c, img, img, dtype=torch.float32), p,
               f"PatchEmbedding({img}, {p}, {c}, {d}) on float32 x[3,{c},{img},{img}]", atol=1e-5)


@check(points=1)
def test_indivisible_raises(ex):
    expect_raises(ValueError, ex.PatchEmbedding, 10, 4, 3, 8, what="PatchEmbedding(10, 4, 3, 8) (10 % 4 != 0)")


@check(points=1)
def test_gradients(ex, rng):
    h, conv, _ = _setup(ex, rng, img=8, p=4, c=2, d=6)
    x = _randn(rng, 2, 2, 8, 8)
    g = _randn(rng, 2, 4, 6)
    _, (gx,) = grad_of(h, x.clone().requires_grad_(), grad_outputs=g)
    xr = x.clone().requires_grad_()
    _conv_ref(conv, xr).backward(g)
    assert_close(gx, xr.grad, atol=1e-10, rtol=1e-10, what="gradient of the output wrt the image (float64)")
    assert_grads_close(param_grads(h), {"proj.weight": conv.weight.grad.reshape(6, -1), "proj.bias": conv.bias.grad},
                       atol=1e-10, rtol=1e-10, what="float64")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    h, conv, _ = _setup(ex, rng, img=8, p=4, c=3, d=5)
    x = _randn(rng, 2, 3, 8, 8)
    what = "PatchEmbedding(8, 4, 3, 5)(x[2,3,8,8])"
    out = call_unchanged(h, x, names=("x",), what=what)
    expect_tensor(out, shape=(2, 4, 5), dtype=F64, what=what)
    assert_close(out, _conv_ref(conv, x), atol=1e-10, rtol=1e-10, what=what)


@check(points=1)
def test_noncontiguous_inputs(ex, rng):
    h, conv, sd = _setup(ex, rng, img=12, p=4, c=3, d=6)
    base = _randn(rng, 2, 3, 12, 12)
    cases = (
        (base.contiguous(memory_format=torch.channels_last), "a channels_last image (x.to(memory_format=...))"),
        (_randn(rng, 2, 3, 16, 15)[:, :, 2:14, 1:13], "a crop of a larger image (x[:, :, 2:14, 1:13])"),
        (base[:1].expand(3, 3, 12, 12), "one image expanded over the batch (stride 0)"),
        (base.transpose(2, 3), "a transposed image (x.transpose(2, 3))"),
    )
    for x, label in cases:
        what = f"PatchEmbedding(12, 4, 3, 6) on {label}"
        with explain_layout_errors(what):
            out = h(x)
        expected = _conv_ref(conv, x)
        expect_tensor(out, shape=expected.shape, dtype=F64, what=what)
        if not torch.allclose(out, expected, atol=1e-10, rtol=1e-10) and \
                torch.allclose(h(x.contiguous()), expected, atol=1e-10, rtol=1e-10):
            raise AssertionError(
                f"{what}: wrong values, although the same image made contiguous (x.contiguous()) gives the right "
                f"ones. Likely mistake: the result depends on the memory layout: strides computed from the shape "
                f"(as_strided, or raw storage offsets) assume a contiguous image. Use shape operations (reshape, "
                f"permute, unfold), which respect the strides the image has.")
        _judge(h, conv, sd, x, 4, what)


@check(points=1, covers=("device",))
def test_device_follows_inputs(ex, impl, rng):
    what = "PatchEmbedding(8, 2, 3, 5)(x[2,3,8,8])"
    out = expect_module_device_follows(lambda: ex.PatchEmbedding(8, 2, 3, 5), impl.lib("torch"),
                                       _randn(rng, 2, 3, 8, 8, dtype=torch.float32), what=what)
    expect_tensor(out, shape=(2, 16, 5), what=f"{what} on meta")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 4096 patches of 2 x 2 pixels in one small image: a loop over the patches runs 4096 iterations, while the
    # data crossing the wire stays small (64 KB) so that transfer time does not hide it (see chapter.toml)
    state = {"proj.weight": _randn(rng, 4, 4, dtype=torch.float32), "proj.bias": _randn(rng, 4, dtype=torch.float32)}
    mine, theirs = ex.PatchEmbedding(128, 2, 1, 4), ref.PatchEmbedding(128, 2, 1, 4)
    load_state(mine, state)
    load_state(theirs, state)
    assert_fast(mine, theirs, _randn(rng, 1, 1, 128, 128, dtype=torch.float32),
                max_ratio=exercise.threshold("speed_max_ratio"), what="PatchEmbedding(128, 2, 1, 4)(x[1,1,128,128])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    h, conv, _ = _setup(ex, rng, img=8, p=2, c=3, d=5, dtype=torch.float32)
    h.to(device)
    x = _randn(rng, 2, 3, 8, 8)
    out = h(x.float().to(device))
    expect_tensor(out, shape=(2, 16, 5), dtype=torch.float32, device=device, what="the output on the GPU")
    assert_close(out, _conv_ref(conv, x), atol=1e-4, rtol=1e-4, what="the output on the GPU vs the CPU conv oracle")
