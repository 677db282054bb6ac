"""Grader for ch05.checkpoint: save_checkpoint(path, model, optimizer, epoch, **extra) and
load_checkpoint(path, model, optimizer=None, map_location="cpu") -> {"epoch", **extra}.

The central proof: 2 epochs, save, load into fresh objects (after scrambling every generator), 2 more
epochs == 4 epochs straight, bit for bit. Both runs happen in the worker, with the same recipe
(worker_support.testfns.noisy_epochs draws from the torch, numpy and random generators at every step)."""
import argparse

import torch

from torchcourse.data import Digits
from torchcourse.grading import LearnerError, call_unchanged, check


def _digits(n=160):
    ds = Digits("train")
    return ds.data[:n].reshape(n, 64).clone(), ds.targets[:n].clone()


def _setup(impl, x, y):
    """Model (with dropout), Adam, a shuffling DataLoader and the loss, built in the worker from its
    current global RNG state."""
    nn, data, optim = impl.lib("torch.nn"), impl.lib("torch.utils.data"), impl.lib("torch.optim")
    model = nn.Sequential(nn.Linear(64, 32), nn.Dropout(0.2), nn.ReLU(), nn.Linear(32, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=32, shuffle=True)
    return model, opt, loader, nn.CrossEntropyLoss()


def _same(a, b) -> bool:
    """Exact equality of nested plain data (tensors bit for bit)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype \
            and a.shape == b.shape and torch.equal(a.cpu(), b.cpu())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return a == b


def _changed_rngs(before, after) -> list[str]:
    names = {"torch": "torch (torch.get_rng_state)", "numpy": "numpy (np.random.get_state)",
             "random": "random (random.getstate)"}
    changed = []
    for key, label in names.items():
        extra = {"numpy": "numpy_gauss", "random": "random_gauss"}.get(key)
        if not _same(before[key], after[key]) or (extra and before[extra] != after[extra]):
            changed.append(label)
    return changed


@check(points=4, timeout=60, title="2 epochs + save + load + 2 epochs == 4 epochs straight, bit for bit")
def test_resume_is_exact(ex, impl, tmp_path):
    T = impl.lib("worker_support.testfns")
    x, y = _digits()
    T.seed_all(0)
    model, opt, loader, loss_fn = _setup(impl, x, y)
    T.noisy_epochs(model, loader, loss_fn, opt, 4)
    straight = model.state_dict()

    T.seed_all(0)
    model1, opt1, loader1, loss_fn1 = _setup(impl, x, y)
    T.noisy_epochs(model1, loader1, loss_fn1, opt1, 2)
    path = str(tmp_path / "resume.pt")
    ex.save_checkpoint(path, model1, opt1, 2)
    saved_model, saved_opt, saved_rng = model1.state_dict(), opt1.state_dict(), T.rng_snapshot()

    T.seed_all(12345)                     # a new process: other generator states, freshly initialised objects
    model2, opt2, loader2, loss_fn2 = _setup(impl, x, y)
    ex.load_checkpoint(path, model2, opt2)
    if not _same(model2.state_dict(), saved_model):
        raise AssertionError("after load_checkpoint the fresh model's weights differ from the saved ones: save "
                             "model.state_dict() and restore it with model.load_state_dict(...)")
    if not _same(opt2.state_dict(), saved_opt):
        raise AssertionError("optimizer state not saved (or not restored): after load_checkpoint the fresh Adam has "
                             "other moments/step counts than the saved one, so the next steps differ; save "
                             "optimizer.state_dict() and restore it with optimizer.load_state_dict(...)")
    changed = _changed_rngs(saved_rng, T.rng_snapshot())
    if changed:
        raise AssertionError(f"RNG state not restored: after load_checkpoint the global generator(s) of "
                             f"{', '.join(changed)} are not where they were at save time, so shuffling, dropout "
                             f"and noise differ from an uninterrupted run; save and restore all three")
    T.noisy_epochs(model2, loader2, loss_fn2, opt2, 2)
    resumed = model2.state_dict()
    differ = [k for k in straight if not _same(straight[k], resumed[k])]
    if differ:
        worst = max((resumed[k] - straight[k]).abs().max().item() for k in differ)
        raise AssertionError(f"resuming is not exact: after 2 + 2 epochs, {', '.join(differ)} differ from 4 "
                             f"epochs straight (largest difference {worst:.3g}); something that influences "
                             f"training was not saved or not restored, or saving consumed random numbers")


def _leaves(obj, depth=0):
    """Every tensor and every sequence of ints inside a loaded checkpoint, as tensors."""
    if depth > 6:
        return
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        if len(obj) > 100 and all(type(v) is int for v in obj):
            yield torch.tensor(obj, dtype=torch.int64)
        else:
            for v in obj:
                yield from _leaves(v, depth + 1)


def _dicts(obj, depth=0):
    if depth > 6:
        return
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _dicts(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _dicts(v, depth + 1)


def _contains(leaves, wanted: torch.Tensor) -> bool:
    wanted = wanted.to(torch.int64).flatten()
    for t in leaves:
        if t.numel() >= wanted.numel() and not t.is_floating_point() and not t.is_complex() \
                and torch.equal(t.flatten()[:wanted.numel()].to(torch.int64), wanted):
            return True
    return False


def _saved_run(ex, impl, path, **extra):
    T = impl.lib("worker_support.testfns")
    x, y = _digits(96)
    T.seed_all(3)
    model, opt, loader, loss_fn = _setup(impl, x, y)
    T.noisy_epochs(model, loader, loss_fn, opt, 1)
    rng = T.rng_snapshot()
    ex.save_checkpoint(path, model, opt, 1, **extra)
    return model, opt, rng


@check(points=2, title="the file loads with weights_only=True and holds model, optimizer, epoch, RNG, extras")
def test_file_contents(ex, impl, tmp_path):
    path = tmp_path / "contents.pt"
    model, opt, rng = _saved_run(ex, impl, str(path), best_accuracy=0.75, note="hello")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:   # noqa: BLE001 - any failure to load safely is the learner's
        raise AssertionError(f"the checkpoint cannot be loaded with torch.load(path, weights_only=True) "
                             f"({type(e).__name__}: {str(e)[:300]}); save state_dicts and plain data (numpy arrays "
                             f"converted to tensors), not whole objects") from None
    if not isinstance(ckpt, dict):
        raise AssertionError(f"the checkpoint holds a {type(ckpt).__name__}; save one dict")
    dicts = list(_dicts(ckpt))
    model_sd, opt_sd = model.state_dict(), opt.state_dict()
    if not any(_same(d, model_sd) for d in dicts):
        raise AssertionError("the model's state_dict() is not in the checkpoint")
    if not any(_same(d, opt_sd) for d in dicts):
        raise AssertionError("optimizer state not saved: no entry of the checkpoint equals optimizer.state_dict() "
                             "(Adam's moments and step counts are needed to resume)")
    if not any(d.get("epoch") == 1 for d in dicts):
        raise AssertionError("the epoch is not saved under the key 'epoch'")
    if not any(d.get("note") == "hello" and d.get("best_accuracy") == 0.75 for d in dicts):
        raise AssertionError("the extras (save_checkpoint(..., best_accuracy=0.75, note='hello')) are not saved "
                             "as a dict holding them")
    leaves = list(_leaves(ckpt))
    missing = [name for name, wanted in (("torch", rng["torch"]), ("numpy", rng["numpy"][:624]),
                                         ("random", rng["random"])) if not _contains(leaves, wanted)]
    if missing:
        raise AssertionError(f"RNG state not saved: the state of the {', '.join(missing)} generator(s) is not in "
                             f"the checkpoint (torch.get_rng_state(), np.random.get_state(), random.getstate())")


@check(points=1, title="load_checkpoint returns {'epoch', **extra} and works without an optimizer")
def test_load_returns(ex, impl, tmp_path):
    path = str(tmp_path / "returns.pt")
    model, _, _ = _saved_run(ex, impl, path, best_accuracy=0.75, note="hello")
    x, y = _digits(96)
    impl.lib("worker_support.testfns").seed_all(99)
    fresh, _, _, _ = _setup(impl, x, y)
    info = ex.load_checkpoint(path, fresh)
    expected = {"epoch": 1, "best_accuracy": 0.75, "note": "hello"}
    if info != expected:
        raise AssertionError(f"load_checkpoint(path, model) returned {info!r}"[:300] + f"; expected {expected!r}")
    if not _same(fresh.state_dict(), model.state_dict()):
        raise AssertionError("load_checkpoint(path, model) without an optimizer did not restore the weights")


@check(points=1, title="load_checkpoint uses weights_only=True")
def test_weights_only(ex, impl, tmp_path):
    path = tmp_path / "unsafe.pt"
    _saved_run(ex, impl, str(path), note="hello")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:        # noqa: BLE001 - test_file_contents reports it
        raise AssertionError("the checkpoint does not load with weights_only=True (see the file contents check)") \
            from None
    if not isinstance(ckpt, dict):
        raise AssertionError(f"the checkpoint holds a {type(ckpt).__name__}; save one dict")
    ckpt["_unsafe"] = argparse.Namespace(surprise=True)     # an object: refused by weights_only=True
    torch.save(ckpt, path)
    x, y = _digits(96)
    fresh, _, _, _ = _setup(impl, x, y)
    try:
        ex.load_checkpoint(str(path), fresh)
    except LearnerError as e:
        if e.type in ("NotImplementedError", "ForbiddenAPIError", "Crash", "Timeout"):
            raise
        return
    raise AssertionError("load_checkpoint loaded a file holding an arbitrary pickled object (argparse.Namespace): "
                         "unpickling runs code, so a checkpoint from elsewhere could run anything; use "
                         "torch.load(path, map_location=map_location, weights_only=True)")


@check(points=1, covers=("device",), title="load_checkpoint hands map_location to torch.load (a callable one too)")
def test_map_location(ex, impl, tmp_path):
    path = str(tmp_path / "mapped.pt")
    model, _, _ = _saved_run(ex, impl, path)
    x, y = _digits(96)
    fresh, opt, _, _ = _setup(impl, x, y)
    mapper = impl.lib("worker_support.training_probes").RecordingMapLocation()
    ex.load_checkpoint(path, fresh, opt, map_location=mapper)
    if not mapper.locations:
        raise AssertionError("map_location ignored: load_checkpoint(path, model, optimizer, map_location=f) with a "
                             "callable f(storage, location) never called f, so a checkpoint written on a GPU could "
                             "not be loaded on a CPU-only machine (nor moved where the caller asks); pass it on: "
                             "torch.load(path, map_location=map_location, weights_only=True)")
    if not _same(fresh.state_dict(), model.state_dict()):
        raise AssertionError("load_checkpoint with a callable map_location (one that leaves each storage where it is) "
                             "did not restore the weights")


@check(points=1, covers=("inputs",), title="save_checkpoint leaves the model, the optimizer and the extras unchanged")
def test_save_leaves_inputs(ex, impl, tmp_path):
    T, P = impl.lib("worker_support.testfns"), impl.lib("worker_support.training_probes")
    x, y = _digits(96)
    T.seed_all(4)
    model, opt, loader, loss_fn = _setup(impl, x, y)
    T.noisy_epochs(model, loader, loss_fn, opt, 1)
    versions, weights, state = P.parameter_versions(model), model.state_dict(), opt.state_dict()
    class_weights = torch.linspace(0.5, 2.0, 10).requires_grad_()
    call_unchanged(ex.save_checkpoint, str(tmp_path / "inputs.pt"), model, opt, 1, names=("path", "model"),
                   class_weights=class_weights, what="save_checkpoint(path, model, optimizer, 1, class_weights=t)")
    if P.parameter_versions(model) != versions or not _same(model.state_dict(), weights):
        raise AssertionError("save_checkpoint modified the model's parameters or buffers in place (their version "
                             "counters moved): saving must only read them; save model.state_dict() as it is")
    if not _same(opt.state_dict(), state):
        raise AssertionError("save_checkpoint changed the optimizer's state: saving must only read it")
