"""Grader for ch05.evaluate: evaluate(model, loader, loss_fn, device) -> {"loss", "accuracy"}."""
import torch
import torch.nn as nn
from support.training import batches, expect_batches_moved, meta_loss

from torchcourse.data import Digits
from torchcourse.grading import assert_close, assert_fast, call_unchanged, check, load_state, random_state

F64 = torch.float64


def _digits(n, offset=0):
    """n test digits, flattened to [n, 64] float64, and their labels [n]."""
    ds = Digits("test")
    return ds.data[offset:offset + n].reshape(n, 64).to(F64), ds.targets[offset:offset + n].clone()


def _layers(nn_mod, dropout):
    layers = [nn_mod.Linear(64, 32, dtype=F64), nn_mod.BatchNorm1d(32, dtype=F64), nn_mod.ReLU()]
    if dropout:
        layers.append(nn_mod.Dropout(0.5))
    return layers + [nn_mod.Linear(32, 10, dtype=F64)]


def _state(rng, dropout=False):
    """A random state dict for the model, running statistics included (eval and train mode differ)."""
    return random_state(nn.Sequential(*_layers(nn, dropout)), rng, scale=0.5)


def _worker_setup(impl, sd, x, y, batch_size, dropout=False):
    wnn, data = impl.lib("torch.nn"), impl.lib("torch.utils.data")
    model = wnn.Sequential(*_layers(wnn, dropout))
    load_state(model, sd)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size)
    return model, loader, wnn.CrossEntropyLoss()


def _oracle(sd, x, y, batch_size, *, train=False):
    """Per-batch (mean loss, number correct, size) of the manual evaluation in this process."""
    model = nn.Sequential(*_layers(nn, False))
    model.load_state_dict(sd)
    model.train(train)
    out = []
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            logits = model(x[i:i + batch_size])
            yb = y[i:i + batch_size]
            out.append((nn.functional.cross_entropy(logits, yb).item(), (logits.argmax(1) == yb).sum().item(),
                        len(yb)))
    return out


def _weighted(batches):
    n = sum(b for _, _, b in batches)
    return torch.tensor([sum(loss * b for loss, _, b in batches) / n, sum(c for _, c, _ in batches) / n], dtype=F64)


def _result(res, what="evaluate's result"):
    if not isinstance(res, dict):
        raise AssertionError(f"{what}: expected a dict {{'loss': float, 'accuracy': float}}, got "
                             f"{type(res).__name__}"[:300])
    missing = [k for k in ("loss", "accuracy") if k not in res]
    if missing:
        raise AssertionError(f"{what}: missing key(s) {missing}; got keys {sorted(map(str, res))}")
    for k in ("loss", "accuracy"):
        if isinstance(res[k], torch.Tensor):
            raise AssertionError(f"{what}[{k!r}] is a tensor; return a Python float (.item())")
        if not isinstance(res[k], (float, int)) or isinstance(res[k], bool):
            raise AssertionError(f"{what}[{k!r}]: expected a float, got {type(res[k]).__name__}")
    return torch.tensor([float(res["loss"]), float(res["accuracy"])], dtype=F64)


@check(points=3, title="sample-weighted loss and accuracy match a manual evaluation")
def test_matches_manual(ex, impl, rng):
    x, y = _digits(100)                                    # batches of 32, 32, 32 and 4
    sd = _state(rng)
    model, loader, loss_fn = _worker_setup(impl, sd, x, y, 32)
    model.train()
    got = _result(ex.evaluate(model, loader, loss_fn, torch.device("cpu")))
    batches = _oracle(sd, x, y, 32)
    expected = _weighted(batches)
    per_batch = torch.tensor([[loss, c / b] for loss, c, b in batches], dtype=F64).mean(0)
    train_mode = _weighted(_oracle(sd, x, y, 32, train=True))
    mistakes = [
        (("batch-size-weighted mean wrong on the last batch: this is the mean of the per-batch values, which "
         "gives the 4-sample last batch the weight of a full one; weight each batch by its size"), per_batch),
        ("train() mode during eval: BatchNorm normalised with each batch's statistics; call model.eval()",
         train_mode),
        ("accuracy returned as a percentage; it is a fraction in [0, 1]", expected * torch.tensor([1.0, 100.0])),
        ("accuracy returned as a count of correct predictions; divide by the number of samples",
         expected * torch.tensor([1.0, float(len(y))])),
    ]
    assert_close(got, expected, atol=1e-9, rtol=1e-9,
                 what="[loss, accuracy] over 100 samples in batches of 32, 32, 32, 4",
                 hint="sum loss.item() * batch_size and the correct predictions over the batches, divide by the "
                      "number of samples", mistakes=mistakes)


@check(points=2, title="runs in eval mode without gradients")
def test_eval_mode_no_grad(ex, impl, rng):
    x, y = _digits(64)
    inner, loader, loss_fn = _worker_setup(impl, _state(rng, dropout=True), x, y, 16, dropout=True)
    probe = impl.lib("worker_support.testfns").ModeProbe(inner)
    probe.train()
    ex.evaluate(probe, loader, loss_fn, "cpu")
    calls = probe.calls
    if len(calls) != 4:
        raise AssertionError(f"the model was called {len(calls)} times for 4 batches; expected one forward per batch")
    if any(training for training, _ in calls):
        raise AssertionError("train() mode during eval: the forward passes ran in training mode (Dropout active, "
                             "BatchNorm using batch statistics); call model.eval() before the loop")
    if any(grad for _, grad in calls):
        raise AssertionError("grads enabled in evaluation: the forward passes built autograd graphs; run the loop "
                             "inside `with torch.no_grad():`")


@check(points=2, title="restores the model's mode and leaves its state untouched")
def test_restores_mode(ex, impl, rng):
    x, y = _digits(50, offset=100)
    sd = _state(rng)
    for start in ("train", "eval"):
        model, loader, loss_fn = _worker_setup(impl, sd, x, y, 16)
        getattr(model, start)()
        ex.evaluate(model, loader, loss_fn, "cpu")
        after = model.training
        if after != (start == "train"):
            raise AssertionError(
                f"the model arrived in {start} mode and left in {'train' if after else 'eval'} mode: evaluate must "
                f"restore the previous mode (remember model.training, then model.train(was_training))")
        changed = [k for k, v in model.state_dict().items() if not torch.equal(v, sd[k])]
        if changed:
            raise AssertionError(f"evaluate changed the model's state ({', '.join(changed)}); evaluation must "
                                 f"not train: train() mode during eval updates BatchNorm's running statistics")


@check(points=1, gpu=True, title="moves each batch to the device (CUDA)")
def test_cuda(ex, impl, rng, device):
    x, y = _digits(40)
    sd = _state(rng)
    model, loader, loss_fn = _worker_setup(impl, sd, x, y, 16)
    model.to(device)
    got = _result(ex.evaluate(model, loader, loss_fn, device))
    assert_close(got, _weighted(_oracle(sd, x, y, 16)), atol=1e-7, rtol=1e-7,
                 what="[loss, accuracy] on CUDA (batches come from the loader on the CPU)",
                 hint="move each batch with inputs.to(device), targets.to(device)")


@check(points=1, covers=("device",), title="moves every batch to the model's device (checked on `meta`: no GPU needed)")
def test_moves_batches(ex, impl, rng):
    x, y = _digits(40)
    model, loader, _ = _worker_setup(impl, _state(rng), x, y, 16)
    model.to("meta")
    expect_batches_moved(lambda: ex.evaluate(model, loader, meta_loss(impl), torch.device("meta")),
                         "evaluate(model, loader, loss_fn, device)",
                         "Move each batch with inputs.to(device), targets.to(device) before the forward pass.")


@check(points=1, covers=("inputs",), title="leaves the loader's batches unchanged")
def test_batches_unchanged(ex, impl, rng):
    x, y = _digits(40)
    model, _, loss_fn = _worker_setup(impl, _state(rng), x, y, 16)
    call_unchanged(ex.evaluate, model, batches(x, y, 16), loss_fn, "cpu",
                   names=("model", "loader", "loss_fn", "device"),
                   what="evaluate(model, loader, ...) with a loader that is a list of batches")


@check(points=1, speed=True, timeout=60, title="no Python loop over the samples of a batch")
def test_speed(ex, ref, impl, rng, exercise, ref_impl):
    # 32768 samples of 4 features in 16 batches: counting the correct predictions (or summing losses) sample by
    # sample runs 32768 Python iterations, while the reference's per-batch tensor operations run 16 times
    x = torch.randn(32768, 4, generator=rng)
    y = torch.randint(0, 10, (32768,), generator=rng)
    recipe = "worker_support.training_probes"
    assert_fast(impl.lib(recipe).evaluate_recipe, ref_impl.lib(recipe).evaluate_recipe, exercise.module,
                batches(x, y, 2048), repeat=15, max_ratio=exercise.threshold("speed_max_ratio"),
                what="evaluate(Linear(4, 10), 16 batches of 2048 samples, ...)")
