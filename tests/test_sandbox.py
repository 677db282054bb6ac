"""The worker and its handles, below the graders: what crosses, what is enforced, what survives a crash."""
from __future__ import annotations

import time

import pytest
import torch

from torchcourse import zygote
from torchcourse.remote import Handle, ImportFailed, LearnerCrash, LearnerError, with_timeout

DEMO = """
import os, sys, time
import torch

calls = []

def add(x, y):
    return x + y

def record(x):
    calls.append(x)
    return len(calls)

def boom():
    raise ValueError("bad input")

def die():
    os._exit(3)

def hang():
    while True:
        pass

def uses_cdist(x):
    return torch.cdist(x, x)

class Box(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.lin(x)
"""


def test_values_cross_exactly(remote):
    m = remote(DEMO).module("ch00_demo.m")
    x = torch.randn(4, 3, dtype=torch.float64)
    out = m.add(x, x)
    assert type(out) is torch.Tensor and torch.equal(out, 2 * x)
    assert m.add(1, 2) == 3 and m.add("a", "b") == "ab" and m.add([1], [2]) == [1, 2]
    assert m.add((1,), (2,)) == (1, 2)


def test_objects_stay_in_the_worker(remote):
    impl = remote(DEMO)
    m = impl.module("ch00_demo.m")
    box = m.Box()
    assert isinstance(box, Handle) and box.type_name.endswith("Box")
    out = box(torch.ones(2, 3))
    assert out.shape == (2, 2)
    from torchcourse.grading import params
    assert set(params(box)) == {"lin.weight", "lin.bias"}


def test_learner_errors_carry_type_and_line(remote):
    m = remote(DEMO).module("ch00_demo.m")
    with pytest.raises(LearnerError) as info:
        m.boom()
    assert info.value.type == "ValueError" and info.value.where["line"] == 15
    assert "bad input" in str(info.value)


def test_forbidden_api_is_armed_per_call(remote):
    impl = remote(DEMO)
    free = impl.module("ch00_demo.m")
    assert free.uses_cdist(torch.ones(2, 2)).shape == (2, 2)
    guarded = impl.module("ch00_demo.m", forbid=("torch.cdist",))
    with pytest.raises(LearnerError, match="torch.cdist is forbidden"):
        guarded.uses_cdist(torch.ones(2, 2))
    assert free.uses_cdist(torch.ones(2, 2)).shape == (2, 2)         # restored afterwards


def test_crash_restarts_the_worker_and_reimports(remote):
    impl = remote(DEMO)
    m = impl.module("ch00_demo.m")
    m.record(1)
    m.record(2)
    with pytest.raises(LearnerCrash, match="exited with status 3"):
        m.die()
    assert m.record(1) == 1          # a fresh worker: the module was imported again, its state is new


def test_objects_from_a_dead_worker_are_reported(remote):
    impl = remote(DEMO)
    m = impl.module("ch00_demo.m")
    box = m.Box()
    with pytest.raises(LearnerCrash):
        m.die()
    with pytest.raises(LearnerCrash, match="restarted"):
        box(torch.ones(1, 3))


def test_timeout_is_enforced_from_outside(remote):
    m = remote(DEMO).module("ch00_demo.m")
    start = time.perf_counter()
    with pytest.raises(LearnerCrash, match="(?i)timed out after 1 s") as info:
        with_timeout(m.hang, 1)()
    assert info.value.timed_out and time.perf_counter() - start < 10
    assert m.add(1, 1) == 2


def test_failed_import_is_recorded_once(remote):
    impl = remote("import torch\nraise RuntimeError('broken at import')\n")
    with pytest.raises(ImportFailed, match="broken at import"):
        impl.module("ch00_demo.m")
    generation = impl.generation
    with pytest.raises(ImportFailed):
        impl.module("ch00_demo.m")
    assert impl.generation == generation


def test_hung_import_is_recorded_once(remote):
    impl = remote("while True:\n    pass\n")
    impl.default_timeout = 1
    start = time.perf_counter()
    with pytest.raises(ImportFailed, match="timed out"):
        impl.module("ch00_demo.m")
    with pytest.raises(ImportFailed):
        impl.module("ch00_demo.m")
    assert time.perf_counter() - start < 8           # the second attempt did not wait again


def test_worker_sees_only_the_learner_files(remote):
    impl = remote(DEMO)
    sys_mod, os_mod = impl.lib("sys"), impl.lib("os")
    paths = sys_mod.path
    assert not any("graders" in p or "solutions" in p for p in paths)
    assert os_mod.listdir(".") == []                      # its own empty scratch folder, nothing of ours
    assert not any("conftest" in p for p in paths)
    assert os_mod.environ.get("COURSE_ROOT") is None and os_mod.environ.get("HOME") == os_mod.getcwd()


def test_workers_are_forked_from_the_zygote(remote):
    impl = remote(DEMO)
    start = time.perf_counter()
    impl.module("ch00_demo.m").add(1, 1)
    if zygote.get() is None:
        pytest.skip("no zygote on this platform: workers start as new processes")
    assert time.perf_counter() - start < 5
    assert impl.lib("torch").get_num_threads() == 1
