"""The wire seen from a grader: layouts and meta tensors cross as sent, timed calls cannot be told from checked
ones and are verified, stale handles are named, inputs modified in place and device mistakes are caught."""
from __future__ import annotations

import time

import pytest
import torch

from torchcourse.devices import expect_device_follows
from torchcourse.grading import speed_ratio
from torchcourse.inputs import call_unchanged
from torchcourse.remote import LearnerCrash, LearnerError

LAYOUT = """
    import torch

    def layout(x):
        return x.is_contiguous(), tuple(x.stride()), x.storage_offset(), tuple(x.shape), x.sum().item()

    def windows(x, size, step):
        return x.as_strided((((x.shape[0] - size) // step) + 1, size), (step * x.stride(0), x.stride(0)))

    def copy_windows(x, size, step):
        return torch.stack([x[i:i + size] for i in range(0, x.shape[0] - size + 1, step)])
"""


@pytest.mark.parametrize("make", [
    lambda: torch.arange(12.).reshape(3, 4).t(),             # transposed
    lambda: torch.arange(20.).reshape(4, 5)[1:, ::2],        # sliced: offset and step
    lambda: torch.arange(3.).expand(4, 3),                   # expanded: stride 0
    lambda: torch.arange(10.).as_strided((4, 3), (2, 1), 1),  # overlapping windows
    lambda: torch.arange(6.)[2:],                            # contiguous with an offset
], ids=["transposed", "sliced", "expanded", "overlapping", "offset"])
def test_inputs_arrive_with_their_layout(remote, make):
    m = remote(LAYOUT).module("ch00_demo.m")
    x = make()
    assert m.layout(x) == (x.is_contiguous(), x.stride(), x.storage_offset(), tuple(x.shape), x.sum().item())


def test_results_come_back_with_their_layout(remote):
    m = remote(LAYOUT).module("ch00_demo.m")
    x = torch.arange(10.)
    view, copy = m.windows(x, 3, 2), m.copy_windows(x, 3, 2)
    assert torch.equal(view, copy) and view.stride() == (2, 1) and copy.stride() == (3, 1)


def test_meta_tensors_cross_without_data(remote):
    source = LAYOUT + "\n    def make():\n        return torch.empty(2, 3, device='meta').t()\n"
    m = remote(source).module("ch00_demo.m")
    back = m.make()
    assert back.device.type == "meta" and back.shape == (3, 2) and back.stride() == (1, 3)
    with pytest.raises(LearnerError, match="meta"):    # the worker received a meta tensor: no values to sum
        m.layout(torch.empty(4, 4, device="meta"))


# ---------------------------------------------------------------- timing

TIMED = """
    import sys

    import torch

    seen = []
    _cache = {}

    def double(x):
        f = sys._getframe(1)
        while f is not None and "request" not in f.f_locals:
            f = f.f_back
        seen.append(sorted(f.f_locals["request"]) if f is not None else None)
        return x * 2

    def cached(x):
        key = (tuple(x.shape), x.dtype)
        if key not in _cache:
            _cache[key] = x * 2
        return _cache[key]
"""


def test_timed_calls_look_like_checked_calls_and_are_verified(remote):
    learner = remote(TIMED, label="learner").module("ch00_demo.m")
    reference = remote(TIMED, label="reference").module("ch00_demo.m")
    x = torch.randn(1000)
    learner.double(x)                                     # a checked call
    ratio, mine, ref = speed_ratio(learner.double, reference.double, x, repeat=3)
    assert ratio > 0 and mine > 0 and ref > 0
    seen = learner.seen
    assert len(seen) == 1 + 1 + 3 and all(keys == seen[0] for keys in seen)   # one form for every request
    with pytest.raises(AssertionError, match="timed calls returned different results"):
        speed_ratio(learner.cached, reference.double, x, repeat=3)   # a stale cached result is caught


def test_inputs_factory_gives_every_call_its_own_inputs(remote):
    learner = remote(TIMED, label="learner").module("ch00_demo.m")
    reference = remote(TIMED, label="reference").module("ch00_demo.m")
    made = []

    def inputs(i):
        made.append(i)
        return (torch.full((8,), float(i)),), {}
    speed_ratio(learner.double, reference.double, inputs=inputs, repeat=2, number=2)
    assert made == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- stale handles

def test_a_handle_from_an_exited_worker_is_named_not_a_key_error(remote):
    impl = remote("""
        import os
        import threading

        class Box:
            value = 3

        def make():
            return Box()

        def exit_soon():
            threading.Timer(0.1, os._exit, (0,)).start()
    """)
    m = impl.module("ch00_demo.m")
    box = m.make()
    m.exit_soon()
    deadline = time.monotonic() + 10
    while impl.worker.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(LearnerCrash, match="lost when the worker restarted"):
        _ = box.value
    with pytest.raises(LearnerError) as err:               # an id the (new) worker never gave out
        impl.request({"op": "getattr", "obj": 10_000, "name": "value"})
    assert "KeyError" not in str(err.value) and "not in this worker" in str(err.value)
    assert m.make().value == 3                             # the module handle re-imports


# ---------------------------------------------------------------- inputs come back unchanged

UNCHANGED = """
    import torch

    def pure(x, idx):
        return x[idx] + 1

    def add_zero(x, idx):
        x.add_(0)
        return x[idx]

    def unsqueeze_squeeze(x, idx):
        x.unsqueeze_(0)
        x.squeeze_(0)
        return x[idx]

    def shift(x, idx):
        idx += 1
        return x[:, idx]

    def in_list(xs):
        xs[1].neg_()
        return xs[0]

    def transpose_(x, idx):
        x.t_()
        return x
"""


@pytest.mark.parametrize("name, words", [
    ("add_zero", "`x` in place (version counter"),
    ("unsqueeze_squeeze", "`x` in place (version counter"),
    ("shift", "`idx` in place (values, version counter"),
    ("transpose_", "strides (3, 1) -> (1, 3)"),
])
def test_inputs_modified_in_place_are_named(remote, name, words):
    m = remote(UNCHANGED).module("ch00_demo.m")
    x, idx = torch.arange(9.).reshape(3, 3), torch.tensor([0, 1])
    with pytest.raises(AssertionError, match="modified its input") as err:
        call_unchanged(getattr(m, name), x, idx, what=f"{name}(x, idx)", names=("x", "idx"))
    assert words in str(err.value), str(err.value)


def test_unchanged_inputs_pass_and_nested_tensors_are_watched(remote):
    m = remote(UNCHANGED).module("ch00_demo.m")
    x = torch.arange(6.).reshape(3, 2).t()                 # a non-contiguous input stays non-contiguous
    assert torch.equal(call_unchanged(m.pure, x, torch.tensor([1]), names=("x", "idx")), x[[1]] + 1)
    with pytest.raises(AssertionError, match=r"`xs\[1\]` in place \(values"):
        call_unchanged(m.in_list, [torch.ones(2), torch.ones(2)], names=("xs",))


# ---------------------------------------------------------------- devices without a GPU

DEVICES = """
    import torch

    def follows(x):
        return x + torch.zeros(x.shape, device=x.device)

    def scalar_tensor(x):
        return x * torch.tensor(2.0)           # a CPU scalar tensor is fine with inputs on any device

    def new_on_cpu(x):
        return x + torch.zeros(x.shape)

    def result_on_cpu(x):
        return torch.zeros(x.shape[0])

    def needs_values_ok(x):
        n = int(x.abs().sum().item())
        return x * 1 + torch.zeros_like(x) + n * 0

    def needs_values_bad(x):
        n = int(x.abs().sum().item())
        return x + torch.arange(x.shape[-1]) * 0 + n * 0
"""


@pytest.mark.parametrize("name", ["follows", "scalar_tensor", "needs_values_ok"])
def test_device_following_code_passes(remote, name):
    m = remote(DEVICES).module("ch00_demo.m")
    expect_device_follows(getattr(m, name), torch.randn(2, 3), what=f"{name}(x)")


@pytest.mark.parametrize("name, words", [
    ("new_on_cpu", "mixed devices"),
    ("result_on_cpu", "the result came back on cpu, expected meta"),
    ("needs_values_bad", "tensors made without device= land on `meta`"),
])
def test_device_mistakes_are_named(remote, name, words):
    m = remote(DEVICES).module("ch00_demo.m")
    with pytest.raises(AssertionError, match="device=x.device") as err:
        expect_device_follows(getattr(m, name), torch.randn(2, 3), what=f"{name}(x)")
    assert words in str(err.value), str(err.value)


def test_a_result_too_large_to_send_is_a_clear_error(remote):
    m = remote("def big():\n    return [0] * 2_000_000\n").module("ch00_demo.m")
    with pytest.raises(LearnerError, match="more values than the 1,000,000 one message may carry"):
        m.big()
    assert m.big.__class__.__name__ == "Handle"        # the worker survives: it only refused to send
