"""Hostile submission: imports the reference solution."""
ATTACK = 'imports the reference solution'
FAILS = '*'
PASSES = []
MESSAGE = 'could not be imported'

from solutions.ch00_demo.scale import scaled_sum  # noqa: F401
