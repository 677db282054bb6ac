"""fit with a while loop and a deep copy of the best model (a valid alternative)."""
import copy

import torch
from torch import nn


def fit(model: nn.Module, train_loader, val_loader, loss_fn, optimizer: torch.optim.Optimizer, device,
        max_epochs: int, patience: int, min_delta: float = 0.0) -> list[dict]:
    history, best, best_model, waited, epoch = [], float("inf"), None, 0, 0
    while epoch < max_epochs and waited < patience:
        epoch += 1
        model.train()
        sums = [0.0, 0]
        for inputs, targets in train_loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            sums[0] += loss.item() * targets.shape[0]
            sums[1] += targets.shape[0]
        model.eval()
        val = [0.0, 0, 0]
        with torch.inference_mode():
            for inputs, targets in val_loader:
                inputs, targets = inputs.to(device), targets.to(device)
                logits = model(inputs)
                val[0] += loss_fn(logits, targets).item() * targets.shape[0]
                val[1] += (logits.argmax(1) == targets).sum().item()
                val[2] += targets.shape[0]
        row = {"epoch": epoch, "train_loss": sums[0] / sums[1], "val_loss": val[0] / val[2],
               "val_accuracy": val[1] / val[2]}
        history.append(row)
        if row["val_loss"] < best - min_delta:
            best, best_model, waited = row["val_loss"], copy.deepcopy(model), 0
        else:
            waited += 1
    model.load_state_dict(best_model.state_dict())
    return history
