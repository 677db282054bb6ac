"""Grader for ch10.posenc: sinusoidal_positions(max_len, d_model) -> float32 [max_len, d_model]."""
import torch
from support.attention import default_device

from torchcourse.grading import assert_close, assert_fast, check, expect_raises, expect_tensor


def _tol(max_len):
    # float32 angles p * w are off by ~p ulps: the pinned tolerance grows with the length
    return max(1e-4, 1.2e-7 * max_len)


def _closed_form(max_len, d, *, layout="interleave", first="sin", expo=lambda i2, d: i2 / d, divide=True):
    """PE in float64 from the formula; the keyword arguments produce the known mistakes."""
    p = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    i2 = torch.arange(0, d, 2, dtype=torch.float64)                   # 2i = 0, 2, 4, ...
    freq = 10000.0 ** expo(i2, d)
    ang = p / freq if divide else p * freq
    a, b = (ang.sin(), ang.cos()) if first == "sin" else (ang.cos(), ang.sin())
    if layout == "interleave":
        return torch.stack([a, b], dim=-1).reshape(max_len, d)
    return torch.cat([a, b], dim=-1)


def _judge(ex, max_len, d):
    what = f"sinusoidal_positions({max_len}, {d})"
    out = ex.sinusoidal_positions(max_len, d)
    expect_tensor(out, shape=(max_len, d), what=what)
    if out.dtype != torch.float32:
        raise AssertionError(f"{what}: expected dtype torch.float32, got {out.dtype} "
                             f"(compute in any precision you like, return float32)")
    tol = _tol(max_len)
    mistakes = [
        ("sin/cos interleave swapped: PE[p, 2i] is sin and PE[p, 2i+1] is cos", _closed_form(max_len, d, first="cos")),
        ("sin and cos concatenated in halves instead of interleaved (even columns sin, odd columns cos)",
         _closed_form(max_len, d, layout="concat")),
        ("sin/cos concatenated in halves and swapped", _closed_form(max_len, d, layout="concat", first="cos")),
        ("10000 exponent uses i instead of 2i: the frequency is 1 / 10000^(2i / d_model)",
         _closed_form(max_len, d, expo=lambda i2, d: (i2 / 2) / d)),
        (("10000 exponent doubled: 2 * (2i) / d_model (the index already counts by 2 when you use "
         "arange(0, d, 2))"), _closed_form(max_len, d, expo=lambda i2, d: 2 * i2 / d)),
        ("position multiplied by 10000^(2i/d) instead of divided", _closed_form(max_len, d, divide=False)),
    ]
    assert_close(out, _closed_form(max_len, d), atol=tol, rtol=0, what=what,
                 mistakes=mistakes,
                 hint="PE[p, 2i] = sin(p / 10000^(2i / d_model)), PE[p, 2i + 1] = cos(same angle)")


@check(points=3)
def test_closed_form(ex):
    for max_len, d in ((50, 16), (9, 2), (1, 6), (20, 10)):
        _judge(ex, max_len, d)


@check(points=1)
def test_long_sequence(ex):
    _judge(ex, 4096, 16)


@check(points=1)
def test_odd_d_model_raises(ex):
    expect_raises(ValueError, ex.sinusoidal_positions, 10, 7, what="sinusoidal_positions(10, 7) (odd d_model)")


@check(points=1, covers=("device",))
def test_device_follows_default(ex, impl):
    # no device argument: the table follows the default device, like torch.arange. `meta` stands in for a
    # GPU (every machine has it): a table computed elsewhere (NumPy, math, .cpu()) comes back on the CPU
    what = "sinusoidal_positions(64, 32) with torch.set_default_device('meta')"
    with default_device(impl.lib("torch"), "meta"):
        out = ex.sinusoidal_positions(64, 32)
    if not isinstance(out, torch.Tensor) or out.device.type != "meta":
        got = out.device.type if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(
            f"{what}: expected the table on the default device (meta), got {got}. Likely mistake: the table is "
            f"built outside torch's factories (NumPy and torch.from_numpy, Python's math and torch.tensor of a "
            f"list of lists built with it on the CPU, or an explicit .cpu()/device='cpu'); build it with torch.arange "
            f"and tensor operations so that it lands on the default device, a GPU included.")
    expect_tensor(out, shape=(64, 32), dtype=torch.float32, what=f"{what}, on meta")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, exercise):
    # many positions (a loop over positions runs 4096 iterations) and many columns (a loop over the 256
    # frequency pairs); see chapter.toml for what was measured
    for max_len, d in ((4096, 16), (256, 512)):
        assert_fast(ex.sinusoidal_positions, ref.sinusoidal_positions, max_len, d,
                    max_ratio=exercise.threshold("speed_max_ratio"), what=f"sinusoidal_positions({max_len}, {d})")


@check(points=1, gpu=True)
def test_gpu(ex, impl, device):
    # no device argument: the result follows the default device, like torch.arange does
    with default_device(impl.lib("torch"), device):
        out = ex.sinusoidal_positions(64, 32)
    expect_tensor(out, shape=(64, 32), dtype=torch.float32, device=device,
                  what="sinusoidal_positions(64, 32) with torch.set_default_device('cuda')")
    assert_close(out, _closed_form(64, 32), atol=_tol(64), rtol=0,
                 what="sinusoidal_positions(64, 32) on the GPU vs the closed form",
                 hint="create tensors without a hard-coded device (torch.arange(...) follows the default device)")
