"""Grader for ch03.params: count_parameters(module, trainable_only=True) -> int, shared parameters once."""
import torch
import torch.nn as nn
from worker_support import testfns

from torchcourse.grading import assert_fast, check, params

SHARED = "counts shared parameters twice"


def _variants(m: nn.Module, trainable_only: bool):
    """What each known mistake would count for the local twin m of the learner's model."""
    unique = list(m.parameters())
    dup = [p for _, p in m.named_parameters(remove_duplicate=False)]
    trainable = lambda ps: [p for p in ps if p.requires_grad or not trainable_only]  # noqa: E731
    return [
        (f"{SHARED}: iterate module.parameters() (it yields a shared parameter once), not every module's own "
         f"parameters or named_parameters(remove_duplicate=False)", sum(p.numel() for p in trainable(dup))),
        ("ignores trainable_only: parameters with requires_grad=False were counted",
         sum(p.numel() for p in unique)) if trainable_only else
        ("trainable_only=False must count the frozen parameters (requires_grad=False) too",
         sum(p.numel() for p in unique if p.requires_grad)),
        ("counts the state_dict: it holds buffers (e.g. BatchNorm's running statistics) and tied weights under "
         "every name; count module.parameters()", sum(t.numel() for t in m.state_dict().values())),
        ("counts only the module's direct parameters, not its submodules' (module.parameters() recurses)",
         sum(p.numel() for p in m._parameters.values() if p is not None)),
    ]


def _judge(ex, handle, twin: nn.Module, what, **kwargs):
    trainable_only = kwargs.get("trainable_only", True)
    got = ex.count_parameters(handle, **kwargs)
    expected = sum(p.numel() for p in twin.parameters() if p.requires_grad or not trainable_only)
    if type(got) is not int:
        kind = getattr(got, "type_name", type(got).__name__)
        raise AssertionError(f"{what}: expected a Python int, got {kind}"
                             + (f" {got!r}" if isinstance(got, (float, bool)) else "")
                             + ". Hint: p.numel() is an int already; sum them with sum(...)")
    if got != expected:
        named = [name for name, value in _variants(twin, trainable_only) if value == got and value != expected]
        raise AssertionError(f"{what}: expected {expected} parameters, got {got}"
                             + (f"\n  Likely mistake: {named[0]}" if named else ""))


@check(points=2)
def test_plain_model(ex, impl):
    nn_w = impl.lib("torch.nn")
    model = nn_w.Sequential(nn_w.Linear(10, 20), nn_w.ReLU(), nn_w.Linear(20, 5))
    twin = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    _judge(ex, model, twin, "count_parameters(Sequential(Linear(10, 20), ReLU(), Linear(20, 5)))")
    _judge(ex, model, twin, "count_parameters(Sequential(Linear(10, 20), ReLU(), Linear(20, 5)), trainable_only=False)",
           trainable_only=False)
    _judge(ex, nn_w.Linear(7, 3, bias=False), nn.Linear(7, 3, bias=False), "count_parameters(Linear(7, 3, bias=False))")


@check(points=3)
def test_shared_parameters(ex, impl):
    nn_w = impl.lib("torch.nn")
    layer = nn_w.Linear(8, 8)
    twin_layer = nn.Linear(8, 8)
    _judge(ex, nn_w.Sequential(layer, nn_w.ReLU(), layer), nn.Sequential(twin_layer, nn.ReLU(), twin_layer),
           "count_parameters(Sequential(layer, ReLU(), layer)) with the same Linear(8, 8) used twice")
    _judge(ex, impl.lib("worker_support.testfns").TiedLM(50, 16), testfns.TiedLM(50, 16),
           "count_parameters(a language model whose output head shares the embedding's [50, 16] weight)")


@check(points=2)
def test_trainable_only(ex, impl):
    nn_w = impl.lib("torch.nn")
    frozen = nn_w.Linear(10, 20)
    frozen.requires_grad_(False)
    model = nn_w.Sequential(frozen, nn_w.ReLU(), nn_w.Linear(20, 5))
    twin = nn.Sequential(nn.Linear(10, 20).requires_grad_(False), nn.ReLU(), nn.Linear(20, 5))
    what = "count_parameters(Sequential(Linear(10, 20) frozen, ReLU(), Linear(20, 5))"
    _judge(ex, model, twin, what + ")")
    _judge(ex, model, twin, what + ", trainable_only=True)", trainable_only=True)
    _judge(ex, model, twin, what + ", trainable_only=False)", trainable_only=False)


@check(points=1)
def test_buffers_are_not_parameters(ex, impl):
    nn_w = impl.lib("torch.nn")
    _judge(ex, nn_w.Sequential(nn_w.Linear(4, 16), nn_w.BatchNorm1d(16)), nn.Sequential(nn.Linear(4, 16),
                                                                                     nn.BatchNorm1d(16)),
           "count_parameters(Sequential(Linear(4, 16), BatchNorm1d(16))) (running_mean, running_var and "
           "num_batches_tracked are buffers, not parameters)")


@check(points=1, covers=("inputs",))
def test_model_unchanged(ex, impl):
    nn_w = impl.lib("torch.nn")
    probes = impl.lib("worker_support.nn_probes")
    frozen = nn_w.Linear(10, 20)
    frozen.requires_grad_(False)
    model = nn_w.Sequential(frozen, nn_w.ReLU(), nn_w.Linear(20, 5))
    twin = nn.Sequential(nn.Linear(10, 20).requires_grad_(False), nn.ReLU(), nn.Linear(20, 5))
    before_values, before_flags = params(model), probes.parameter_flags(model)
    for trainable_only in (True, False):
        ex.count_parameters(model, trainable_only=trainable_only)
    after_values, after_flags = params(model), probes.parameter_flags(model)
    changed = [name for (name, *a), (_, *b) in zip(before_flags, after_flags) if a != b]
    changed += [name for name in before_values if not torch.equal(before_values[name], after_values.get(name))]
    if changed or len(after_flags) != len(before_flags):
        raise AssertionError(f"count_parameters(model) changed the model it was asked to count: parameters "
                             f"{sorted(set(changed))} (values, requires_grad or version counter) differ after the "
                             f"call. Likely mistake: requires_grad_() (which sets the flag) where requires_grad (which "
                             f"reads it) was meant, or an in-place operation on a parameter; only read the model")
    for trainable_only in (True, False):
        _judge(ex, model, twin, f"count_parameters(model, trainable_only={trainable_only})",
               trainable_only=trainable_only)


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, impl, exercise, ref_impl):
    # 16.5 k parameter elements: a loop over them (iterating p, or p.tolist()) costs far more than p.numel()
    # (ratios in chapter.toml). Each side counts a model of its own worker: a bound call (functools.partial)
    sides = []
    for module, worker in ((ex, impl), (ref, ref_impl)):
        nn_w = worker.lib("torch.nn")
        model = nn_w.Sequential(nn_w.Linear(128, 128), nn_w.ReLU(), nn_w.Linear(128, 2))
        sides.append(worker.lib("worker_support.nn_probes").bound(module.count_parameters, model))
    assert_fast(*sides, number=2, max_ratio=exercise.threshold("speed_max_ratio"),
                what="count_parameters(Sequential(Linear(128, 128), ReLU(), Linear(128, 2)))")
