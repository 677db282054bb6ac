import torch

from torchcourse.grading import assert_close, assert_fast, check, expect_tensor, forbidden_api_check, grad_of


@check(points=2)
def test_values(ex, rng):
    x, y = torch.randn(50, generator=rng, dtype=torch.float64), torch.randn(50, generator=rng, dtype=torch.float64)
    assert_close(ex.scaled_sum(x, y, 0.5), x + 0.5 * y, atol=1e-12, what="scaled_sum(x, y, 0.5)")


@check(points=1)
def test_dtype(ex, rng):
    x, y = torch.randn(7, generator=rng), torch.randn(7, generator=rng)
    out = ex.scaled_sum(x, y, 2.0)
    expect_tensor(out, shape=(7,), dtype=torch.float32)
    assert_close(out, x + 2.0 * y, atol=1e-6, what="scaled_sum in float32")


@check(points=1)
def test_gradient(ex, rng):
    x = torch.randn(5, generator=rng, dtype=torch.float64, requires_grad=True)
    y = torch.randn(5, generator=rng, dtype=torch.float64, requires_grad=True)
    _, (gx, gy) = grad_of(ex.scaled_sum, x, y, 3.0)
    assert_close(gx, torch.ones(5, dtype=torch.float64), atol=1e-12, what="d/dx")
    assert_close(gy, torch.full((5,), 3.0, dtype=torch.float64), atol=1e-12, what="d/dy")


@check(points=1, speed=True)
def test_speed(ex, ref, rng, exercise):
    x, y = torch.randn(20_000, generator=rng), torch.randn(20_000, generator=rng)
    assert_fast(ex.scaled_sum, ref.scaled_sum, x, y, 0.5, max_ratio=exercise.threshold("speed_max_ratio"))


test_no_forbidden_api = forbidden_api_check()
