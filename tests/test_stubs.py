"""One source per exercise: stubs come from the solutions, and exercises/ never drifts from them."""
import ast

import pytest

from torchcourse import stubs

SOLUTION = '''import torch


def f(x):
    """Doc."""
    # TODO: do it
    # BEGIN SOLUTION
    y = x * 2
    return y
    # END SOLUTION


class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # BEGIN SOLUTION
        self.w = torch.nn.Parameter(torch.zeros(1))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return x * self.w
        # END SOLUTION
'''


def test_stub_keeps_everything_but_the_solution():
    stub = stubs.make_stub(SOLUTION)
    assert "x * 2" not in stub and "Parameter" not in stub
    assert '"""Doc."""' in stub and "# TODO: do it" in stub
    assert 'raise NotImplementedError("f: not implemented yet")' in stub
    assert 'raise NotImplementedError("M.__init__: not implemented yet")' in stub
    assert 'raise NotImplementedError("M.forward: not implemented yet")' in stub
    ast.parse(stub)


@pytest.mark.parametrize("broken, words", [
    (SOLUTION.replace("    # END SOLUTION\n\n\nclass", "\n\nclass", 1), "nested"),
    (SOLUTION + "# END SOLUTION\n", "without"),
    (SOLUTION + "# BEGIN SOLUTION\n", "never closed"),
])
def test_marker_mistakes_are_reported(broken, words):
    with pytest.raises(stubs.MarkerError, match=words):
        stubs.make_stub(broken)


def test_exercises_are_generated_from_solutions(course):
    stale = stubs.build(course.solutions_dir, course.exercises_dir, check_only=True)
    assert stale == [], f"run `course dev build`: {stale}"
