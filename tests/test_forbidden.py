"""The forbidden-API guard (torchcourse/forbidden.py): the mapping from declared names to what computes them,
every route to a forbidden kernel refused in a real worker, and legitimate use of allowed ops never refused."""
from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest
import torch

from torchcourse import config
from torchcourse.forbidden import RULES, resolve
from torchcourse.remote import Implementation, LearnerError

SDPA = "torch.nn.functional.scaled_dot_product_attention"

LEARNER = '''
import gc, importlib, threading
import torch
import torch.nn.functional as F
from torch.nn.modules.activation import MultiheadAttention as RealMHA

def via_ops(q):
    return torch.ops.aten._scaled_dot_product_attention_math(q, q, q)[0]

def via_private_dict(q):
    return torch._C._nn.__dict__["scaled_dot_product_attention"](q, q, q)

def via_gc(q):
    fn = next(o for o in gc.get_objects() if getattr(o, "__name__", "") == "scaled_dot_product_attention"
              and callable(o))
    return fn(q, q, q)

class Mine(RealMHA):
    pass

def via_subclass(q):
    return Mine(8, 2, batch_first=True)(q[0], q[0], q[0])[0]

_pool = {}
def _worker():                       # started at import: takes requests later, in its own thread
    while True:
        job = _pool.get("job")
        if job is not None and "out" not in _pool:
            try:
                _pool["out"] = F.scaled_dot_product_attention(job, job, job)
            except Exception as e:    # what the guard raised, handed back to the caller
                _pool["out"] = e
        threading.Event().wait(0.01)
threading.Thread(target=_worker, daemon=True).start()

def via_thread(q):
    _pool.pop("out", None)
    _pool["job"] = q
    while "out" not in _pool:
        threading.Event().wait(0.01)
    out = _pool.pop("out")
    _pool.pop("job")
    if isinstance(out, Exception):
        raise out
    return out

def via_convolution(x):
    return torch.convolution(x, torch.ones(1, 1, 3, 3), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)

def via_fused_adamw(x):
    p, g = [x.clone()], [torch.ones_like(x)]
    torch._fused_adamw_(p, g, [torch.zeros_like(x)], [torch.zeros_like(x)], [], [torch.tensor(1.0)], lr=0.1,
                        beta1=0.9, beta2=0.99, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
    return p[0]

def via_optimizer_subclass(x):
    p = torch.nn.Parameter(x.clone())
    p.grad = torch.ones_like(x)
    opt = type("Opt", (importlib.import_module("torch.optim.adamw").AdamW,), {})([p], lr=0.1)
    opt.step()
    return p.detach()

def legitimate_attention(q, mask):
    w = torch.softmax((q @ q.transpose(-2, -1) / q.shape[-1] ** 0.5).masked_fill(~mask, float("-inf")), dim=-1)
    lin = torch.nn.Linear(q.shape[-1], q.shape[-1])
    return lin(torch.matmul(w, q)) + F.softmax(q, dim=-1)

def legitimate_training(x, y):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return loss.detach()

def pops_the_guard(x):
    while torch._C._len_torch_function_stack():
        torch._C._pop_torch_function_stack()
    return x
'''


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    root = tmp_path_factory.mktemp("guarded")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "routes.py").write_text(textwrap.dedent(LEARNER))
    impl = Implementation(root, label="guard-test")
    yield impl
    impl.close()


def routes(impl, forbid):
    return impl.module("pkg.routes", forbid=tuple(forbid))


def refused(fn, *args) -> str:
    with pytest.raises(LearnerError) as info:
        fn(*args)
    assert info.value.type == "ForbiddenAPIError", info.value.describe()
    return info.value.describe()


# ---------------------------------------------------------------- the mapping

def test_every_api_the_course_forbids_resolves_to_something():
    course = config.load(Path(__file__).resolve().parents[1])
    names = {name for ch in course.chapters for ex in ch.exercises for name in ex.forbidden}
    assert len(names) > 40
    for rule_names in (names, set(RULES)):
        for name in rule_names:
            t = resolve([name])
            assert t.callables or t.ops or t.functions, f"{name} resolves to nothing: add a rule in RULES"


def test_mapping_reaches_the_operators_behind_the_public_names():
    sdpa = resolve([SDPA])
    assert {"aten::_scaled_dot_product_attention_math", "aten::_scaled_dot_product_flash_attention_for_cpu",
            "aten::_scaled_dot_product_efficient_attention", "aten::_native_multi_head_attention"} <= set(sdpa.ops)
    assert id(torch._C._nn.scaled_dot_product_attention) in sdpa.callables
    assert id(torch.nn.functional.multi_head_attention_forward) in sdpa.functions
    conv = resolve(["torch.nn.functional.conv2d"])
    assert {"aten::convolution", "aten::_convolution", "aten::conv2d", "aten::conv_transpose2d"} <= set(conv.ops)
    assert id(torch.convolution) in conv.callables
    adamw = resolve(["torch.optim.AdamW"])
    assert "aten::_fused_adamw_" in adamw.ops and id(torch._fused_adamw_) in adamw.callables
    assert id(torch._foreach_add_) in adamw.callables
    assert id(importlib.import_module("torch.optim.adam")._single_tensor_adam) in adamw.functions
    assert "aten::_cdist_forward" in resolve(["torch.cdist"]).ops
    assert "aten::_log_softmax" in resolve(["torch.nn.functional.log_softmax"]).ops


def test_shared_building_blocks_are_never_mapped():
    everything = resolve(list(RULES))
    for op in ("mm", "bmm", "matmul", "addmm", "softmax", "_softmax", "masked_fill", "exp", "logsumexp", "add"):
        assert f"aten::{op}" not in everything.ops, op


# ---------------------------------------------------------------- every route, in a real worker

@pytest.mark.parametrize("route", ["via_ops", "via_private_dict", "via_gc", "via_subclass", "via_thread"])
def test_every_route_to_attention_is_refused(learner, route):
    q = torch.randn(2, 3, 4, 8)
    message = refused(getattr(routes(learner, [SDPA, "torch.nn.MultiheadAttention"]), route), q)
    assert "forbidden" in message and "build it yourself" in message


def test_convolution_and_fused_optimizer_steps_are_refused(learner):
    refused(routes(learner, ["torch.nn.functional.conv2d"]).via_convolution, torch.randn(1, 1, 5, 5))
    refused(routes(learner, ["torch.optim.AdamW"]).via_fused_adamw, torch.randn(4))
    refused(routes(learner, ["torch.optim.AdamW"]).via_optimizer_subclass, torch.randn(4))


def test_legitimate_use_of_allowed_ops_is_never_refused(learner):
    q = torch.randn(2, 5, 8)
    mask = torch.rand(5, 5) > 0.3
    mask |= torch.eye(5, dtype=torch.bool)
    m = routes(learner, [SDPA, "torch.nn.MultiheadAttention", "torch.nn.functional.multi_head_attention_forward"])
    assert m.legitimate_attention(q, mask).shape == (2, 5, 8)
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    assert float(routes(learner, []).legitimate_training(x, y)) > 0     # ch05: torch.optim and cross_entropy
    # the same worker, an exercise that forbids nn.init: building nn.Linear still initialises it
    init = routes(learner, ["torch.nn.init.kaiming_uniform_", "torch.nn.init.calculate_gain"])
    assert init.legitimate_attention(q, mask).shape == (2, 5, 8)


def test_switching_the_guard_off_fails_the_request_and_rearms(learner):
    message = refused(routes(learner, [SDPA]).pops_the_guard, torch.ones(1))
    assert "switched off" in message
    refused(routes(learner, [SDPA]).via_private_dict, torch.randn(2, 3, 4, 8))


# torch-function-aware wrappers whose code names a target's operator but do not compute it
INNOCENT_WRAPPERS = {"torch._functorch.predispatch.lazy_load_decompositions",   # registers decompositions
                     "torch.nn.functional.unfold",                              # im2col, not Tensor.unfold
                     "torch.nn.functional.lp_pool2d"}                           # avg_pool2d of powers


def test_no_torch_function_wrapper_hides_a_target():
    """Inside a torch-function-aware Python wrapper (it calls handle_torch_function) the function mode does not
    see nested calls, so a wrapper that calls a target must itself be in the rule's ``python`` list."""
    import sys
    import types
    import warnings

    def names(code):
        found = set(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                found |= names(const)
        return found

    with warnings.catch_warnings():        # touching torch.distributed's deprecated names warns
        warnings.simplefilter("ignore")
        wrappers = {f"{fn.__module__}.{fn.__qualname__}": fn for module in list(sys.modules.values())
                    if getattr(module, "__name__", "").startswith("torch")
                    for fn in list(vars(module).values())
                    if isinstance(fn, types.FunctionType) and fn.__module__ == module.__name__
                    and "handle_torch_function" in fn.__code__.co_names}
    missing = []
    for api in RULES:
        targets = resolve([api])
        ops = {name.split("::")[1] for name in targets.ops}
        for name, fn in wrappers.items():
            if id(fn) not in targets.functions and name not in INNOCENT_WRAPPERS and names(fn.__code__) & ops:
                missing.append(f"{api} <- {name}")
    assert not missing, "add these to the rule's python targets (or INNOCENT_WRAPPERS): " + ", ".join(missing)
