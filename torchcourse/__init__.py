"""torchcourse: the engine behind the `course` command — sandboxed graders for a PyTorch course."""

__version__ = "0.1.0"
