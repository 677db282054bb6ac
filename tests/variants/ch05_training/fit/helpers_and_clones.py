"""fit with separate helpers and cloned best weights (a valid alternative)."""
import torch
from torch import nn


def _train(model, loader, loss_fn, optimizer, device):
    model.train()
    total, n = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(targets)
        n += len(targets)
    return total / n


@torch.no_grad()
def _validate(model, loader, loss_fn, device):
    model.eval()
    total, correct, n = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        logits = model(inputs)
        total += loss_fn(logits, targets).item() * len(targets)
        correct += int((logits.argmax(1) == targets).sum())
        n += len(targets)
    return total / n, correct / n


def fit(model: nn.Module, train_loader, val_loader, loss_fn, optimizer: torch.optim.Optimizer, device,
        max_epochs: int, patience: int, min_delta: float = 0.0) -> list[dict]:
    history = []
    best_epoch, best_loss, best_weights = 0, None, None
    for epoch in range(1, max_epochs + 1):
        train_loss = _train(model, train_loader, loss_fn, optimizer, device)
        val_loss, val_accuracy = _validate(model, val_loader, loss_fn, device)
        history.append(dict(epoch=epoch, train_loss=train_loss, val_loss=val_loss, val_accuracy=val_accuracy))
        if best_loss is None or val_loss < best_loss - min_delta:
            best_epoch, best_loss = epoch, val_loss
            best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_weights)
    return history
