"""torchcourse: the engine behind the `course` command — sandboxed graders for a PyTorch course."""
import os as _os

__version__ = "0.1.0"

# Workers are forked from a zygote; a process that has initialised the CUDA driver cannot fork CUDA-capable
# children. Asking NVML whether a GPU exists (instead of the CUDA runtime) keeps the grading process clean.
_os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
