import torch
import torch.nn.functional as F

from torchcourse.grading import assert_close, check, forbidden_api_check


@check(points=3)
def test_attention(ex, rng):
    q, k, v = (torch.randn(2, 5, 8, generator=rng, dtype=torch.float64) for _ in range(3))
    assert_close(ex.attention(q, k, v), F.scaled_dot_product_attention(q, k, v), atol=1e-10,
                 what="attention(q, k, v)")


@check(points=3)
def test_correlate(ex, rng):
    x = torch.randn(2, 3, 7, 6, generator=rng, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 2, generator=rng, dtype=torch.float64)
    assert_close(ex.correlate2d(x, w), F.conv2d(x, w), atol=1e-10, what="correlate2d(x, w)")


@check(points=3)
def test_adamw(ex, rng):
    p0, g = torch.randn(6, generator=rng, dtype=torch.float64), torch.randn(6, generator=rng, dtype=torch.float64)
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.AdamW([p], lr=0.05, weight_decay=0.1)
    p.grad = g.clone()
    opt.step()
    got, m, v = ex.adamw_step(p0, g, torch.zeros(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64), 1,
                              lr=0.05, weight_decay=0.1)
    assert_close(got, p.detach(), atol=1e-10, what="adamw_step(...)[0] after one step")


test_no_forbidden_api = forbidden_api_check()
