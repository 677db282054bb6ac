"""Grader for ch03.mlp: MLP(in_dim, hidden, out_dim, activation="relu", dropout=0.0)."""
import torch
import torch.nn.functional as F
from support.layouts import LAYOUTS, call_with_layout, describe, laid_out

from torchcourse.grading import (
    assert_close,
    assert_fast,
    assert_grads_close,
    call_unchanged,
    check,
    expect_device_follows,
    expect_raises,
    expect_tensor,
    grad_of,
    load_state,
    param_grads,
    params,
)

F64 = torch.float64
ACTS = {"relu": F.relu, "gelu": F.gelu, "tanh": torch.tanh}
LAST = "activation after the last layer: the output layer returns raw scores, nothing comes after it"
PLAIN_LIST = "plain list instead of ModuleList (parameters invisible)"


def _layers(h, dims, what):
    """The learner's linear layers in registration order: [(weight name, bias name)], checked against dims."""
    named = params(h)
    if not named:
        raise AssertionError(f"{what}: module.named_parameters() is empty. Likely mistake: {PLAIN_LIST}: layers "
                             f"kept in a Python list are not registered, so .parameters(), state_dict(), .to() "
                             f"and optimizers never see them; use nn.ModuleList or nn.Sequential")
    groups = {}
    for name, t in named.items():
        groups.setdefault(name.rsplit(".", 1)[0] if "." in name else "", []).append((name, t))
    want = [((o, i), (o,)) for i, o in zip(dims[:-1], dims[1:])]
    got, layers = [], []
    for members in groups.values():
        shapes = tuple(tuple(t.shape) for _, t in members)
        got.append(shapes)
        w = [n for n, t in members if t.dim() == 2]
        b = [n for n, t in members if t.dim() == 1]
        layers.append((w[0] if len(w) == 1 else None, b[0] if len(b) == 1 else None))
    if got != want or any(w is None or b is None for w, b in layers):
        msg = (f"{what}: expected {len(want)} linear layer(s) registered in the order they are applied, with "
               f"(weight, bias) shapes {want}; got parameters {[(n, tuple(t.shape)) for n, t in named.items()]}")
        if len(got) < len(want) and got == want[len(want) - len(got):]:
            msg += f"\n  Likely mistake: {PLAIN_LIST}: some layers are invisible to named_parameters()"
        elif len(dims) == 2:
            msg += "\n  Hint: hidden=[] means a single Linear(in_dim, out_dim)"
        raise AssertionError(msg)
    return layers


def _build(ex, rng, in_dim, hidden, out_dim, activation="relu", dropout=0.0, scale=1.0):
    dims = [in_dim, *hidden, out_dim]
    what = f"MLP({in_dim}, {hidden}, {out_dim}, activation={activation!r}, dropout={dropout})"
    h = ex.MLP(in_dim, hidden, out_dim, activation=activation, dropout=dropout)
    h.double()
    weights = [(torch.randn(o, i, generator=rng, dtype=F64) * scale / i ** 0.5,
                torch.randn(o, generator=rng, dtype=F64) * 0.5) for i, o in zip(dims[:-1], dims[1:])]
    return h, weights, what, _load(h, dims, weights, what)


def _load(h, dims, weights, what):
    """Load ``weights`` [(w, b)] into the learner's linear layers in registration order; eval mode."""
    names = _layers(h, dims, what)
    sd = {}
    for (wn, bn), (w, b) in zip(names, weights):
        sd[wn], sd[bn] = w, b
    load_state(h, sd)
    h.eval()
    return names


def _oracle(x, weights, act="relu", *, after_last=False, no_act=False):
    f = ACTS[act] if act != "gelu_tanh" else (lambda t: F.gelu(t, approximate="tanh"))
    for k, (w, b) in enumerate(weights):
        x = F.linear(x, w, b)
        if (k < len(weights) - 1 or after_last) and not no_act:
            x = f(x)
    return x


def _judge(h, x, weights, act, what):
    out = h(x)
    expected = _oracle(x, weights, act)
    expect_tensor(out, shape=expected.shape, dtype=x.dtype, what=what)
    mistakes = [(LAST, _oracle(x, weights, act, after_last=True)),
                ("no activation between the layers", _oracle(x, weights, act, no_act=True))]
    if act == "gelu":
        mistakes.append(("GELU's tanh approximation; the contract is the exact (erf) GELU, nn.GELU()",
                         _oracle(x, weights, "gelu_tanh")))
    if act != "relu":
        mistakes.append((f"activation={act!r} ignored: ReLU used instead", _oracle(x, weights, "relu")))
    assert_close(out, expected, atol=1e-10, rtol=1e-10, what=what, mistakes=mistakes,
                 hint="Linear -> activation (-> dropout) for each hidden size, then the last Linear alone")


@check(points=2)
def test_structure(ex):
    for in_dim, hidden, out_dim in ((6, [8, 5], 3), (6, [], 3), (4, [16], 2)):
        what = f"MLP({in_dim}, {hidden}, {out_dim})"
        h = ex.MLP(in_dim, hidden, out_dim)
        _layers(h, [in_dim, *hidden, out_dim], what)
        keys = sorted(h.state_dict())
        names = sorted(params(h))
        if keys != names:
            raise AssertionError(f"{what}: state_dict() keys {keys} should be exactly the parameter names {names}")


@check(points=3)
def test_forward_relu(ex, rng):
    h, weights, what, _ = _build(ex, rng, 6, [8, 5], 3)
    for shape in ((10, 6), (2, 4, 6)):
        x = torch.randn(*shape, generator=rng, dtype=F64)
        _judge(h, x, weights, "relu", f"{what}.forward(x{list(shape)}) (float64, weights loaded in layer order)")


@check(points=2)
def test_activations(ex, rng):
    for act in ("gelu", "tanh"):
        h, weights, what, _ = _build(ex, rng, 5, [7, 6], 4, activation=act, scale=2.0)
        x = torch.randn(9, 5, generator=rng, dtype=F64)
        _judge(h, x, weights, act, f"{what}.forward(x[9,5]) (float64)")
    for name in ("sigmoid", "leaky_relu"):
        expect_raises(ValueError, ex.MLP, 4, [4], 2, name,
                      what=f"MLP(4, [4], 2, activation={name!r}) (only 'relu', 'gelu' and 'tanh' exist: the "
                           f"constructor raises ValueError for any other name)")


@check(points=1)
def test_single_layer(ex, rng):
    h, weights, what, _ = _build(ex, rng, 6, [], 3)
    x = torch.randn(5, 6, generator=rng, dtype=F64)
    _judge(h, x, weights, "relu", f"{what}.forward(x[5,6]) (hidden=[] is one Linear, nothing after it)")


@check(points=2)
def test_dropout(ex, rng):
    h, weights, what, _ = _build(ex, rng, 8, [64], 4, dropout=0.5, scale=3.0)
    x = torch.randn(1, 8, generator=rng, dtype=F64).expand(4000, 8).contiguous()   # 4000 independent masks
    expected = _oracle(x[:1], weights)
    out = h(x[:2])
    expect_tensor(out, shape=(2, 4), dtype=F64, what=f"{what} in eval mode")
    assert_close(out, expected.expand(2, 4), atol=1e-10, rtol=1e-10, what=f"{what}.forward in eval mode",
                 hint="dropout is active only in training mode: use nn.Dropout (or check self.training)")
    h.train()
    out = h(x)
    expect_tensor(out, shape=(4000, 4), dtype=F64, what=f"{what} in training mode")
    if torch.allclose(out, expected.expand_as(out), atol=1e-12):
        raise AssertionError(f"{what} in training mode: the output equals the eval-mode output for 4000 rows. "
                             f"Likely mistake: dropout ignored (an nn.Dropout after each hidden activation)")
    zeros = (out == 0).double().mean().item()
    if zeros > 0.05:
        raise AssertionError(f"{what} in training mode: {zeros:.0%} of the outputs are exactly 0. Likely mistake: "
                             f"dropout after the last layer; {LAST}")
    mean, spread = out.mean(0), out.std(0) / 4000 ** 0.5
    worst = ((mean - expected[0]).abs() / spread.clamp_min(1e-12)).max().item()
    if worst > 7:                       # 7 standard errors of the mean over 4000 draws
        raise AssertionError(f"{what} in training mode: the output averaged over 4000 dropout masks is "
                             f"{mean.tolist()}, far from the eval-mode output {expected[0].tolist()} ({worst:.0f} "
                             f"standard errors). Likely mistake: the kept activations are not rescaled by "
                             f"1/(1 - p) (nn.Dropout does it)")


@check(points=1)
def test_gradients(ex, rng):
    h, weights, what, names = _build(ex, rng, 6, [8, 5], 3)
    x = torch.randn(4, 6, generator=rng, dtype=F64)
    g = torch.randn(4, 3, generator=rng, dtype=F64)
    _, (gx,) = grad_of(h, x.clone().requires_grad_(), grad_outputs=g)
    leaves = [(w.clone().requires_grad_(), b.clone().requires_grad_()) for w, b in weights]
    xr = x.clone().requires_grad_()
    _oracle(xr, leaves).backward(g)
    assert_close(gx, xr.grad, atol=1e-10, rtol=1e-10, what=f"dL/dx through {what} (float64)")
    expected = {name: leaf.grad for (wn, bn), (wl, bl) in zip(names, leaves) for name, leaf in ((wn, wl), (bn, bl))}
    assert_grads_close(param_grads(h), expected, atol=1e-10, rtol=1e-10, what=f"{what}, float64")


@check(points=1, covers=("inputs",))
def test_input_unchanged(ex, rng):
    h, _, what, _ = _build(ex, rng, 6, [8, 5], 3, dropout=0.2)
    h.train()
    for shape in ((10, 6), (6,)):
        x = torch.randn(*shape, generator=rng, dtype=F64)
        out = call_unchanged(h, x, names=("x",), what=f"{what} in training mode, forward(x{list(shape)})")
        expect_tensor(out, shape=(*shape[:-1], 3), dtype=F64, what=f"{what}.forward(x{list(shape)})")


@check(points=1)
def test_input_layouts(ex, rng):
    h, weights, what, _ = _build(ex, rng, 6, [8, 5], 3)
    x = torch.randn(3, 4, 6, generator=rng, dtype=F64)
    for x in [laid_out(x, how) for how in LAYOUTS] + [torch.randn(6, generator=rng, dtype=F64).expand(5, 6)]:
        label = f"{what}.forward(x) with x {describe(x)} (not contiguous, as a caller may pass it)"
        _judge_layout(h, x, weights, label)


def _judge_layout(h, x, weights, what):
    out = call_with_layout(h, x, what=what)
    expected = _oracle(x, weights)
    expect_tensor(out, shape=expected.shape, dtype=x.dtype, what=what)
    assert_close(out, expected, atol=1e-10, rtol=1e-10, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    h = ex.MLP(5, [7, 6], 4, dropout=0.5)
    h.to("meta")
    for mode in ("train", "eval"):
        getattr(h, mode)()
        what = f"MLP(5, [7, 6], 4, dropout=0.5).to('meta') in {mode} mode, forward(x[3, 5] on meta)"
        out = expect_device_follows(h, torch.randn(3, 5, generator=rng), what=what)
        expect_tensor(out, shape=(3, 4), dtype=torch.float32, device="meta", what=what,
                      hint="module.to(device) moves what is registered; a mask or tensor made in forward must "
                           "be made on the input's device (torch.rand_like(x), nn.Dropout)")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # a long, thin batch: a loop over its 1024 rows costs far more than one pass (ratios in chapter.toml)
    dims = [4, 8, 2]
    weights = [(torch.randn(o, i, generator=rng) / i ** 0.5, torch.randn(o, generator=rng))
               for i, o in zip(dims[:-1], dims[1:])]
    mine, theirs = ex.MLP(4, [8], 2), ref.MLP(4, [8], 2)
    _load(mine, dims, weights, "MLP(4, [8], 2)")
    _load(theirs, dims, weights, "the reference MLP(4, [8], 2)")
    x = torch.randn(1024, 4, generator=rng)
    assert_fast(mine, theirs, x, number=2, max_ratio=exercise.threshold("speed_max_ratio"),
                what="MLP(4, [8], 2).forward(x[1024, 4]) in eval mode")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    h, weights, what, _ = _build(ex, rng, 6, [8, 5], 3)
    h.float()
    h.to(device)
    x = torch.randn(10, 6, generator=rng)
    out = h(x.to(device))
    expect_tensor(out, shape=(10, 3), dtype=torch.float32, device=device, what=f"{what} on the GPU")
    assert_close(out, _oracle(x.double(), weights), atol=1e-5, rtol=1e-5, what=f"{what} on the GPU vs float64")
