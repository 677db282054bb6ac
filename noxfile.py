"""Project sessions: `nox -s tests` (what CI runs), `nox -s bench`, `nox -s build`, `nox -s lint`."""
import os

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

# torch is pinned here (not in pyproject) so that CI and developers test one known build;
# learners get whatever torch>=2.4 their platform offers. Override with TORCH_SPEC="torch==X torchvision==Y".
TORCH = os.environ.get("TORCH_SPEC", "torch==2.14.1 torchvision==0.29.1").split()


def _install(session, *extras):
    session.install(*TORCH)
    session.install("-e", f".[{','.join(extras)}]" if extras else ".")


@nox.session
def tests(session):
    """The project's own tests: engine, CLI, sandbox, classroom (real nbgrader), every grader proven three ways."""
    _install(session, "classroom")
    session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def build(session):
    """Regenerate exercises/ from solutions/ (use --check in CI-like runs to only compare)."""
    _install(session)
    session.run("course", "dev", "build", *session.posargs)


@nox.session
def bench(session):
    """Grading time per chapter, speed of the references against PyTorch built-ins, isolation cost.

    `nox -s bench -- --flake 20 --classroom --gate --suite` adds the speed-check flake runs, the classroom
    timings, the author's gate per chapter (with a projection to 130 exercises) and the whole test suite."""
    _install(session, "classroom")
    session.run("python", "-m", "torchcourse.bench", *session.posargs)


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", ".")
