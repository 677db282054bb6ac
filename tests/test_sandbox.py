"""The worker and its handles, below the graders: what crosses, what is enforced, what survives a crash."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


# ---------------------------------------------------------------- privilege, filesystem, budgets, leftovers

def _fully_protected() -> bool:
    from torchcourse import sandbox
    return not sandbox.missing_protections(sandbox.probe_protections())


needs_protection = pytest.mark.skipif("not _fully_protected()",
                                      reason="workers here lack a protection (needs root or user namespaces)")


@needs_protection
def test_worker_holds_no_privilege(remote):
    status = remote(DEMO).lib("builtins").open("/proc/self/status").read()
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["CapEff"].strip() == fields["CapPrm"].strip() == fields["CapBnd"].strip() == "0" * 16
    assert fields["NoNewPrivs"].strip() == "1"
    if os.geteuid() == 0:
        assert fields["Uid"].split()[0] == "65534"


@needs_protection
def test_worker_cannot_write_outside_its_scratch(remote):
    import torchcourse
    impl = remote(DEMO)
    os_mod, shutil_mod = impl.lib("os"), impl.lib("shutil")
    engine = str(Path(torchcourse.__file__).parent)
    for folder in (engine, sys.prefix, str(Path(engine).parent), "/var/tmp"):
        assert os_mod.access(folder, os.W_OK) is False or os_mod.statvfs(folder).f_flag & 1, folder
    own = {os_mod.path.basename(os_mod.path.dirname(os_mod.getcwd())), os.path.basename(impl._shared)}
    # and, for a course cloned into /tmp, the folders leading to what it reads (bound back read-only)
    own |= {Path(p).relative_to("/tmp").parts[0] for p in (sys.prefix, engine) if p.startswith("/tmp/")}
    assert set(os_mod.listdir("/tmp")) <= own                 # its own home and shared folder, nobody else's
    assert os_mod.listdir("/dev/shm") == []
    assert shutil_mod.disk_usage("/tmp")[0] <= 300 * 1024 * 1024              # size-capped
    with pytest.raises(LearnerError, match="Read-only|Permission"):
        impl.lib("builtins").open(os.path.join(engine, "hostile-probe"), "w")


@needs_protection
def test_worker_code_copy_is_read_only(remote):
    impl = remote(DEMO)
    impl.module("ch00_demo.m")
    path = impl.lib("ch00_demo.m").attr("__file__")
    with pytest.raises(LearnerError, match="Read-only|Permission"):
        impl.lib("builtins").open(path, "a")


def test_shared_folder_is_written_there_and_read_here(remote):
    impl = remote(DEMO)
    folder = impl.shared_folder("test")
    impl.lib("pathlib").Path(str(folder / "out.txt")).write_text("from the worker")
    assert (folder / "out.txt").read_text() == "from the worker"
    shared = impl._shared
    impl.close()
    assert not os.path.exists(shared)


def test_stale_homes_are_swept_and_live_ones_kept(tmp_path, monkeypatch):
    from torchcourse import sandbox
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"torchcourse-{dead.pid}-learner-x"
    (stale / "code").mkdir(parents=True)
    live = tmp_path / f"torchcourse-{os.getpid()}-learner-y"
    live.mkdir()
    other = tmp_path / "torchcourse-not-ours"
    other.mkdir()
    assert sandbox.sweep_stale_homes() == [str(stale)]
    assert not stale.exists() and live.exists() and other.exists()


def test_engine_is_imported_before_the_zygote_forks():
    import pkgutil

    import torchcourse
    if zygote.start() is None:
        pytest.skip("no zygote on this platform")
    modules = {m.name for m in pkgutil.walk_packages(torchcourse.__path__, "torchcourse.")}
    assert modules - set(sys.modules) <= set(zygote.import_engine())       # only optional extras may be missing
    assert "torchcourse.state" in sys.modules and "torchcourse.classroom.batch" in sys.modules


def test_budget_gives_each_call_what_is_left():
    from torchcourse.remote import Budget
    budget = Budget()
    assert budget.allow(20) == (20, None)                                   # unlimited until a check starts
    budget.start_check(30, "ch10.sdpa", 40)
    assert budget.allow(20) == (20, None)
    budget.spend(18.5)
    timeout, why = budget.allow(20)
    assert timeout == pytest.approx(11.5) and "this check's" in why
    budget.start_check(30, "ch10.sdpa", 40)                                  # next check, same exercise
    budget.spend(18.5)
    timeout, why = budget.allow(20)
    assert timeout == pytest.approx(3) and "ch10.sdpa" in why
    budget.start_check(30, "ch10.mha", 40)                                   # another exercise: its own
    assert budget.allow(20) == (20, None)


def test_spent_budget_cuts_the_call_and_then_refuses(remote):
    impl = remote(DEMO + "\ndef nap(s):\n    time.sleep(s)\n    return s\n")
    m = impl.module("ch00_demo.m")
    impl.budget.start_check(2.0, "ch00.demo", 2.0)
    start = time.perf_counter()
    with pytest.raises(LearnerCrash, match="time budget") as info:
        m.nap(5)
    assert info.value.timed_out and time.perf_counter() - start < 5
    with pytest.raises(LearnerCrash, match="(?i)not run: your code already used up"):
        m.nap(0)
