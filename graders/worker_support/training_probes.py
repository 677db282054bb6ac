"""Worker-side helpers of the ch05 (training) and ch06 (data) graders: plain torch code, no secrets.

The timed recipes (``evaluate_recipe``, ``dataset_recipe``) build everything they need from plain data inside the
worker that runs them, so that a speed check can send the same arguments to the learner's worker and to the
reference's: the exercise module is named, imported here (it is already imported by the grader's ``ex``/``ref``
handle, so this is a dictionary lookup), and called on objects made here.
"""
import importlib

import torch


class RecordingMapLocation:
    """A callable ``map_location`` for ``torch.load``: leaves every storage where it is and records the
    location string each one was saved from (``"cpu"``, ``"cuda:0"``), so a grader can see that it was used."""

    def __init__(self):
        self.locations: list[str] = []

    def __call__(self, storage, location):
        self.locations.append(str(location))
        return storage


def parameter_versions(module: torch.nn.Module) -> list[int]:
    """The version counter of every parameter and buffer (each in-place operation bumps it)."""
    return [t._version for t in (*module.parameters(), *module.buffers())]


def evaluate_recipe(module: str, batches: list, seed: int = 0) -> dict:
    """``module.evaluate`` of a seeded ``Linear(D, 10)`` over ``batches`` (a list of ``(inputs, targets)``)."""
    evaluate = importlib.import_module(module).evaluate
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Linear(batches[0][0].shape[1], 10, dtype=batches[0][0].dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return evaluate(model, batches, torch.nn.CrossEntropyLoss(), "cpu")


def dataset_recipe(module: str, root: str, split: str) -> tuple:
    """Build ``module.DigitsDataset(root, split)`` and read every item by index: (images, labels) stacked."""
    dataset = importlib.import_module(module).DigitsDataset(root, split)
    images, labels = [], []
    for i in range(len(dataset)):
        image, label = dataset[i]
        images.append(image)
        labels.append(label)
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64)


class DeviceCheckingLoss:
    """A ``loss_fn`` for device checks of training loops whose model lives on ``meta``: it fails like a real loss
    when the targets are not on the outputs' device, and otherwise returns a constant CPU loss (1.0) that has a
    value, so that ``loss.backward()``, ``optimizer.step()`` and ``loss.item()`` run and the loop goes on to its
    next batches, the validation ones included. The model is never updated (no gradient reaches it)."""

    def __call__(self, outputs, targets):
        if outputs.device != targets.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{outputs.device} (the model's outputs) and {targets.device} (the targets)!")
        return torch.ones((), requires_grad=True)
