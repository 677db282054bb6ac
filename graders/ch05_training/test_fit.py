"""Grader for ch05.fit(model, train_loader, val_loader, loss_fn, optimizer, device, max_epochs, patience,
min_delta=0.0) -> history: early stopping on the validation loss, best weights loaded at the end."""
import time

import torch
import torch.nn as nn
from support.training import batches, expect_batches_moved, meta_loss

from torchcourse.data import Digits
from torchcourse.grading import call_unchanged, check, load_state

F64 = torch.float64
KEYS = ("epoch", "train_loss", "val_loss", "val_accuracy")


def _flat_digits(split):
    ds = Digits(split)
    return ds.data.reshape(len(ds), 64).clone(), ds.targets.clone()


def _history(res, what="fit's result"):
    if not isinstance(res, list) or not res:
        raise AssertionError(f"{what}: expected a non-empty list of per-epoch dicts, got {type(res).__name__}"
                             f"{'' if not isinstance(res, list) else ' (empty)'}")
    for i, row in enumerate(res):
        if not isinstance(row, dict) or any(k not in row for k in KEYS):
            got = sorted(map(str, row)) if isinstance(row, dict) else type(row).__name__
            raise AssertionError(f"{what}[{i}]: expected a dict with at least {list(KEYS)}, got {got}")
        for k in KEYS[1:]:
            if not isinstance(row[k], (float, int)) or isinstance(row[k], bool):
                raise AssertionError(f"{what}[{i}][{k!r}]: expected a Python float, got {type(row[k]).__name__}")
    first = res[0]["epoch"]
    if first not in (0, 1) or [r["epoch"] for r in res] != list(range(first, first + len(res))):
        raise AssertionError(f"{what}: the 'epoch' entries should count 1, 2, 3, ... (got "
                             f"{[r['epoch'] for r in res][:10]})")
    return res


# ---------------------------------------------------------------- reaching the accuracy

@check(points=3, timeout=90, title="reaches ≥ 95 % test accuracy on the digits within the time budget (45 s)")
def test_reaches_accuracy_on_digits(ex, impl, exercise):
    x, y = _flat_digits("train")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(5))
    tr, va = perm[:1150], perm[1150:]
    torch_w, wnn = impl.lib("torch"), impl.lib("torch.nn")
    data, optim = impl.lib("torch.utils.data"), impl.lib("torch.optim")
    torch_w.manual_seed(0)
    model = wnn.Sequential(wnn.Linear(64, 128), wnn.ReLU(), wnn.Linear(128, 10))
    train_loader = data.DataLoader(data.TensorDataset(x[tr], y[tr]), batch_size=32, shuffle=True)
    val_loader = data.DataLoader(data.TensorDataset(x[va], y[va]), batch_size=256)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    budget = exercise.threshold("time_budget_s")
    start = time.perf_counter()
    history = _history(ex.fit(model, train_loader, val_loader, wnn.CrossEntropyLoss(), opt, "cpu",
                              max_epochs=60, patience=5))
    took = time.perf_counter() - start
    trusted = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    trusted.load_state_dict(model.state_dict())
    xt, yt = _flat_digits("test")
    with torch.no_grad():
        acc = (trusted(xt).argmax(1) == yt).double().mean().item()
    need = exercise.threshold("min_test_accuracy")
    if acc < need:
        raise AssertionError(
            f"after fit ({len(history)} epochs), the model classifies {acc:.1%} of the 360 test digits correctly; "
            f"expected at least {need:.0%} (an MLP 64-128-10, Adam lr 3e-3, batches of 32, patience 5). "
            f"Validation accuracy per epoch: {[round(r['val_accuracy'], 3) for r in history][:20]}")
    if took > budget:
        raise AssertionError(f"fit took {took:.1f} s on the digits (budget {budget:g} s); the reference takes a few "
                             f"seconds: look for work repeated in every step (e.g. evaluating inside the batch loop)")


# ---------------------------------------------------------------- early stopping against an oracle

def _overfit_setup():
    """48 training digits and 200 validation digits: a wide MLP with a large step overfits within a few
    epochs, so the validation loss falls, then rises (for these initial weights: 2.54, 1.50, 0.77, 0.64,
    0.551, 0.557, 0.598, 0.621, 0.621, ...)."""
    rng = torch.Generator().manual_seed(2)
    x, y = _flat_digits("train")
    x = x.to(F64)
    m = nn.Sequential(nn.Linear(64, 128, dtype=F64), nn.ReLU(), nn.Linear(128, 10, dtype=F64))
    sd = {k: 0.3 * torch.randn(v.shape, generator=rng, dtype=F64) for k, v in m.state_dict().items()}
    return (x[:48], y[:48]), (x[48:248], y[48:248]), sd


def _oracle(sd, train, val, max_epochs, patience, min_delta=0.0, *, lr=0.02):
    """The manual fit in this process: (history, best state dict, last state dict)."""
    model = nn.Sequential(nn.Linear(64, 128, dtype=F64), nn.ReLU(), nn.Linear(128, 10, dtype=F64))
    model.load_state_dict(sd)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history, best, best_sd, bad = [], float("inf"), None, 0
    for epoch in range(1, max_epochs + 1):
        model.train()
        tot = 0.0
        for i in range(0, len(train[1]), 16):
            xb, yb = train[0][i:i + 16], train[1][i:i + 16]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            tot += loss.item() * len(yb)
        model.eval()
        with torch.no_grad():
            vl, vc = 0.0, 0
            for i in range(0, len(val[1]), 64):
                logits = model(val[0][i:i + 64])
                vl += loss_fn(logits, val[1][i:i + 64]).item() * len(logits)
                vc += (logits.argmax(1) == val[1][i:i + 64]).sum().item()
        history.append({"epoch": epoch, "train_loss": tot / len(train[1]), "val_loss": vl / len(val[1]),
                        "val_accuracy": vc / len(val[1])})
        if history[-1]["val_loss"] < best - min_delta:
            best, bad = history[-1]["val_loss"], 0
            best_sd = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    return history, best_sd, model.state_dict()


def _learner_fit(ex, impl, sd, train, val, max_epochs, patience, **kw):
    wnn, data, optim = impl.lib("torch.nn"), impl.lib("torch.utils.data"), impl.lib("torch.optim")
    model = wnn.Sequential(wnn.Linear(64, 128, dtype=F64), wnn.ReLU(), wnn.Linear(128, 10, dtype=F64))
    load_state(model, sd)
    history = ex.fit(model, data.DataLoader(data.TensorDataset(*train), batch_size=16),
                     data.DataLoader(data.TensorDataset(*val), batch_size=64), wnn.CrossEntropyLoss(),
                     optim.Adam(model.parameters(), lr=0.02), torch.device("cpu"), max_epochs, patience, **kw)
    return _history(history), model.state_dict()


def _close_sd(a, b, tol=1e-8):
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=tol, rtol=tol) for k in a)


def _judge(history, final, oracle, max_epochs, patience, min_delta=0.0, known=()):
    """known: (number of epochs, mistake) pairs, tried first when the number of epochs is wrong."""
    exp_hist, best_sd, last_sd = oracle
    setting = f"max_epochs={max_epochs}, patience={patience}, min_delta={min_delta:g}"
    val = [round(r["val_loss"], 4) for r in exp_hist]
    n, m = len(history), len(exp_hist)
    for i in range(min(n, m)):
        for k in KEYS[1:]:
            got, want = float(history[i][k]), exp_hist[i][k]
            if abs(got - want) > 1e-8 * max(1.0, abs(want)):
                raise AssertionError(
                    f"epoch {i + 1}: {k} = {got:.10g}, expected {want:.10g} ({setting}); each epoch trains once "
                    f"over train_loader (zero_grad, forward, loss, backward, step per batch), then evaluates in "
                    f"eval mode without gradients; losses are sample-weighted means")
    if n != m:
        why = dict(known).get(n) or (
               "stops one epoch too early: it should stop after `patience` consecutive epochs without improvement"
               if n == m - 1 else
               "stops one epoch too late: `patience` epochs without improvement are enough" if n == m + 1 else
               "early stopping never triggered" if n == max_epochs else
               "an epoch improves when val_loss < best_val_loss - min_delta")
        raise AssertionError(f"fit ran {n} epochs, expected {m} ({setting}; validation losses of the expected run: "
                             f"{val}). Likely mistake: {why}")
    if _close_sd(final, best_sd):
        return
    if _close_sd(final, last_sd):
        raise AssertionError(f"keeps last instead of best weights: after fit the model holds the weights of the last "
                             f"epoch ({m}); it must end with those of the epoch with the lowest validation loss. "
                             f"model.state_dict() returns live tensors: keep copy.deepcopy(model.state_dict())")
    raise AssertionError("after fit the model holds neither the best epoch's weights nor the last ones; load the "
                         "copy saved at the best epoch")


@check(points=3, timeout=60, title="stops after `patience` epochs without improvement and keeps the best weights")
def test_early_stopping(ex, impl):
    train, val, sd = _overfit_setup()
    oracle = _oracle(sd, train, val, 40, 3)
    if len(oracle[0]) >= 40:
        raise RuntimeError("grader setup: the reference run should stop early")
    history, final = _learner_fit(ex, impl, sd, train, val, 40, 3)
    _judge(history, final, oracle, 40, 3)


@check(points=1, timeout=60, title="min_delta: smaller improvements do not count")
def test_min_delta(ex, impl):
    train, val, sd = _overfit_setup()
    min_delta = 0.1                      # epoch 5's 0.551 no longer beats epoch 4's 0.640
    oracle = _oracle(sd, train, val, 40, 2, min_delta)
    ignored = len(_oracle(sd, train, val, 40, 2)[0])
    if ignored == len(oracle[0]):
        raise RuntimeError("grader setup: min_delta must change when this run stops")
    history, final = _learner_fit(ex, impl, sd, train, val, 40, 2, min_delta=min_delta)
    _judge(history, final, oracle, 40, 2, min_delta,
           known=[(ignored, "min_delta ignored: an epoch improves only when val_loss < best_val_loss - min_delta")])


@check(points=1, timeout=60, title="stops at max_epochs")
def test_max_epochs(ex, impl):
    train, val, sd = _overfit_setup()
    oracle = _oracle(sd, train, val, 4, 100)
    history, final = _learner_fit(ex, impl, sd, train, val, 4, 100)
    _judge(history, final, oracle, 4, 100)


def _worker_model(impl, sd):
    wnn = impl.lib("torch.nn")
    model = wnn.Sequential(wnn.Linear(64, 128, dtype=F64), wnn.ReLU(), wnn.Linear(128, 10, dtype=F64))
    load_state(model, sd)
    return model


@check(points=1, timeout=60, title="trains in train mode and validates in eval mode, every epoch")
def test_modes_every_epoch(ex, impl):
    train, val, sd = _overfit_setup()
    probe = impl.lib("worker_support.testfns").ModeProbe(_worker_model(impl, sd))
    probe.eval()
    optim = impl.lib("torch.optim")
    ex.fit(probe, batches(*train, 16), batches(*val, 64), impl.lib("torch.nn").CrossEntropyLoss(),
           optim.Adam(probe.parameters(), lr=0.02), "cpu", 3, 100)
    calls = probe.calls
    if len(calls) != 3 * (3 + 4):
        raise AssertionError(f"3 epochs over 3 training and 4 validation batches should call the model 21 times, it "
                             f"was called {len(calls)} times")
    for epoch in range(3):
        seen = calls[7 * epoch:7 * epoch + 7]
        if not all(training and grad for training, grad in seen[:3]):
            first = " (the model arrived in eval mode)" if epoch == 0 else \
                " after the previous epoch's validation: model eval mode left on after validation"
            raise AssertionError(f"epoch {epoch + 1}: the training forward passes ran with (train mode, gradients) = "
                                 f"{seen[:3]}{first}; call model.train() at the start of every epoch's training pass")
        if any(training or grad for training, grad in seen[3:]):
            raise AssertionError(f"epoch {epoch + 1}: the validation forward passes ran with (train mode, gradients) = "
                                 f"{seen[3:]}; validate with model.eval() inside torch.no_grad()")


@check(points=1, timeout=60, covers=("device",),
       title="moves every batch to the model's device (checked on `meta`: no GPU needed)")
def test_moves_batches(ex, impl):
    train, val, sd = _overfit_setup()
    model = _worker_model(impl, sd)
    model.to("meta")
    optim = impl.lib("torch.optim")
    expect_batches_moved(lambda: ex.fit(model, batches(*train, 16), batches(*val, 64), meta_loss(impl),
                                        optim.Adam(model.parameters(), lr=0.02), torch.device("meta"), 2, 5),
                         "fit(model, train_loader, val_loader, ..., device)",
                         "Move each training and validation batch with inputs.to(device), targets.to(device).")


@check(points=1, timeout=60, covers=("inputs",), title="leaves the loaders' batches unchanged")
def test_batches_unchanged(ex, impl):
    train, val, sd = _overfit_setup()
    model = _worker_model(impl, sd)
    optim, wnn = impl.lib("torch.optim"), impl.lib("torch.nn")
    call_unchanged(ex.fit, model, batches(*train, 16), batches(*val, 64), wnn.CrossEntropyLoss(),
                   optim.Adam(model.parameters(), lr=0.02), "cpu", 2, 5,
                   names=("model", "train_loader", "val_loader", "loss_fn", "optimizer", "device"),
                   what="fit(model, train_loader, val_loader, ...) with loaders that are lists of batches")
