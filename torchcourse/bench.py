"""`nox -s bench` / `python -m torchcourse.bench`: what grading costs and how fast the references are.

Reports, on this machine:
1. per chapter, the wall time of `course check CH --impl solutions` in a fresh process (torch import, the
   worker's start and every check included) — what a learner waits for;
2. each reference solution's speed against the PyTorch built-in it re-implements (single thread, median);
3. the cost of isolation: a worker's start, and one call into a running worker;
4. with --flake N: the speed checks of the references run N times with the other core kept busy.

Results are printed and written to bench-results/bench.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from torchcourse import config


def _time(fn, *args, repeat: int = 15, number: int = 3) -> float:
    fn(*args)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def _load(course, key: str):
    ex = course.exercise(key)
    path = ex.path_in(course.solutions_dir)
    spec = importlib.util.spec_from_file_location(f"_bench_{ex.chapter.dir}_{ex.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cases(course):
    """(exercise, what, reference call, built-in call) at the sizes the speed checks use."""
    F = torch.nn.functional
    g = torch.Generator().manual_seed(0)
    cases = []

    def add(key, what, ref, builtin):
        try:
            course.exercise(key)
        except config.UnknownName:
            return
        cases.append((key, what, ref, builtin))

    x, y = torch.randn(600, 64, generator=g), torch.randn(500, 64, generator=g)
    add("ch01.pairwise", "torch.cdist(x, y) ** 2", lambda m: m.pairwise_sq_distances(x, y),
        lambda: torch.cdist(x, y) ** 2)
    labels = torch.randint(0, 100, (20000,), generator=g)
    add("ch01.one_hot", "F.one_hot", lambda m: m.one_hot(labels, 100), lambda: F.one_hot(labels, 100).float())
    series = torch.randn(64, 4096, generator=g)
    add("ch01.windows", "Tensor.unfold", lambda m: m.sliding_windows(series, 32, 4),
        lambda: series.unfold(-1, 32, 4))
    v = torch.randn(4096, 256, generator=g)
    add("ch01.normalize", "F.normalize", lambda m: m.l2_normalize(v), lambda: F.normalize(v, dim=-1))
    q, k, val = (torch.randn(8, 8, 128, 64, generator=g) for _ in range(3))

    def sdpa_builtin():
        # the built-in does not return the weights; computing them the usual way is part of the job
        w = torch.softmax(q @ k.transpose(-2, -1) / 8.0, dim=-1)
        return F.scaled_dot_product_attention(q, k, val), w
    add("ch10.sdpa", "F.scaled_dot_product_attention + weights", lambda m: m.scaled_dot_product_attention(q, k, val),
        sdpa_builtin)
    xb, ib = torch.randn(64, 128, 32, generator=g), torch.randint(0, 128, (64, 16), generator=g)
    add("ch01.gather", "advanced indexing", lambda m: m.batched_gather(xb, ib),
        lambda: xb[torch.arange(64)[:, None], ib])
    logits, target = torch.randn(2048, 100, generator=g), torch.randint(0, 100, (2048,), generator=g)
    add("ch04.cross_entropy", "F.cross_entropy", lambda m: m.cross_entropy(logits, target),
        lambda: F.cross_entropy(logits, target))
    z, t = torch.randn(2048, 16, generator=g), torch.rand(2048, 16, generator=g)
    add("ch04.bce", "F.binary_cross_entropy_with_logits", lambda m: m.bce_with_logits(z, t),
        lambda: F.binary_cross_entropy_with_logits(z, t))
    xm, ym = torch.randn(512, 64, generator=g), torch.randint(0, 10, (512,), generator=g)
    params = {"W1": torch.randn(128, 64, generator=g) * 0.1, "b1": torch.zeros(128),
              "W2": torch.randn(10, 128, generator=g) * 0.1, "b2": torch.zeros(10)}

    def autograd_mlp():
        ps = {k: v.clone().requires_grad_() for k, v in params.items()}
        h = F.relu(F.linear(xm, ps["W1"], ps["b1"]))
        loss = F.cross_entropy(F.linear(h, ps["W2"], ps["b2"]), ym)
        return loss, torch.autograd.grad(loss, list(ps.values()))
    add("ch02.manual_mlp", "autograd on the same MLP", lambda m: m.mlp_forward_backward(xm, ym, params), autograd_mlp)
    for name, builtin in (("sgd", torch.optim.SGD), ("adamw", torch.optim.AdamW)):
        add(f"ch04.{name}", f"torch.optim.{builtin.__name__}.step (1M parameters)",
            *_optimizer_pair(course, name, builtin))
    return cases


def _optimizer_pair(course, name, builtin):
    """A step of the reference optimizer and of torch.optim's (foreach off, like the reference) on 1M params."""
    def make(cls, **extra):
        p = torch.nn.Parameter(torch.randn(1_000_000))
        p.grad = torch.randn(1_000_000)
        kwargs = {"lr": 0.01, **({"momentum": 0.9} if name == "sgd" else {}), **extra}
        return cls([p], **kwargs)
    mine = {}

    def ref_step(module):
        if "opt" not in mine:
            mine["opt"] = make(getattr(module, builtin.__name__))
        mine["opt"].step()
    theirs = make(builtin, foreach=False)
    return ref_step, theirs.step


def reference_vs_builtin(course) -> list[dict]:
    torch.set_num_threads(1)
    rows = []
    modules = {}
    for key, what, ref_call, builtin_call in _cases(course):
        module = modules.setdefault(key, _load(course, key))
        ref_s = _time(ref_call, module)
        builtin_s = _time(builtin_call)
        rows.append({"exercise": key, "builtin": what, "reference_ms": ref_s * 1e3, "builtin_ms": builtin_s * 1e3,
                     "ratio": ref_s / builtin_s})
    rows += _module_cases(course)
    return rows


def _module_cases(course) -> list[dict]:
    rows = []
    try:
        course.exercise("ch10.mha")
    except config.UnknownName:
        return rows
    mha_mod = _load(course, "ch10.mha")
    B, T, E, H = 8, 128, 256, 8
    mine = mha_mod.MultiHeadAttention(E, H)
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True)
    theirs.load_state_dict(mine.state_dict())
    x = torch.randn(B, T, E)
    with torch.no_grad():
        ref_s = _time(lambda: mine(x))
        builtin_s = _time(lambda: theirs(x, x, x))
    rows.append({"exercise": "ch10.mha", "builtin": "nn.MultiheadAttention", "reference_ms": ref_s * 1e3,
                 "builtin_ms": builtin_s * 1e3, "ratio": ref_s / builtin_s})
    return rows


def check_wall_times(course, chapters) -> list[dict]:
    rows = []
    for ch in chapters:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "torchcourse.cli", "--root", str(course.root), "check", ch.id,
                               "--impl", str(course.solutions_dir)], capture_output=True, text=True, check=False)
        rows.append({"chapter": ch.id, "wall_s": time.perf_counter() - start, "exit_code": proc.returncode,
                     "checks": proc.stdout.count("PASS") + proc.stdout.count("FAIL")})
    return rows


def isolation_cost() -> dict:
    from torchcourse.remote import Implementation
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        impl = Implementation(Path(tmp), label="bench")
        torch_mod = impl.module("torch")
        started = time.perf_counter() - start
        ones = torch_mod.ones
        calls = []
        for _ in range(300):
            t0 = time.perf_counter()
            ones(3)
            calls.append(time.perf_counter() - t0)
        impl.close()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    torch_import = time.perf_counter() - start
    return {"worker_start_s": started, "call_ms_median": statistics.median(calls) * 1e3,
            "python_import_torch_s": torch_import}


def gate_times(course, chapters, target_exercises: int = 130) -> dict:
    """`course dev check` chapter by chapter in this process, and what that projects to for a larger course."""
    from torchcourse import devcheck, variants
    rows, t0 = [], time.perf_counter()
    overhead = time.perf_counter()
    problems = devcheck.stale_stubs(course) + devcheck.orphans(course)
    overhead = time.perf_counter() - overhead
    for ch in chapters:
        report = devcheck.chapter_report(course, ch)
        n_variants = sum(len(variants.load(course, ex)) for ex in ch.exercises)
        rows.append({"chapter": ch.id, "seconds": report.seconds, "exercises": len(ch.exercises),
                     "variants": n_variants, "problems": len(report.problems)})
        problems += report.problems
    total = time.perf_counter() - t0
    n_ex = sum(r["exercises"] for r in rows) or 1
    per_exercise = sum(r["seconds"] for r in rows) / n_ex
    return {"chapters": rows, "total_s": total, "orphans_and_stubs_s": overhead, "per_exercise_s": per_exercise,
            "variants_per_exercise": sum(r["variants"] for r in rows) / n_ex, "problems": len(problems),
            f"projected_{target_exercises}_exercises_s": per_exercise * target_exercises + overhead}


def suite_time(course) -> dict:
    """The project's own test suite, as CI runs it (wall seconds)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=course.root,
                          capture_output=True, text=True, check=False)
    tail = proc.stdout.strip().splitlines()[-1:] or [""]
    return {"wall_s": time.perf_counter() - start, "exit_code": proc.returncode, "summary": tail[0]}


def _busy(stop):
    while not stop.is_set():
        sum(i * i for i in range(10000))


def flake_runs(course, runs: int) -> dict:
    """Run every speed check of the references `runs` times while another process keeps a core busy."""
    from torchcourse.runner import grade
    stop = multiprocessing.Event()
    hog = multiprocessing.Process(target=_busy, args=(stop,), daemon=True)
    hog.start()
    outcomes = {}
    try:
        for _ in range(runs):
            for ch in course.chapters:
                speed = [ex for ex in ch.exercises if "speed_max_ratio" in ex.thresholds]
                if not speed:
                    continue
                run = grade(course, ch, course.solutions_dir, exercises=speed, speed_only=True)
                for ex in run.exercises:
                    for c in ex.checks:
                        if c.kind == "speed":
                            outcomes.setdefault(f"{ex.key}.{c.name}", []).append(c.outcome)
    finally:
        stop.set()
        hog.join(5)
    return {name: {"passed": o.count("passed"), "runs": len(o)} for name, o in outcomes.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m torchcourse.bench")
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--flake", type=int, default=0, help="run the speed checks N times under load")
    parser.add_argument("--classroom", action="store_true",
                        help="also time `course grade` against `nbgrader autograde` on the same submissions")
    parser.add_argument("--gate", action="store_true",
                        help="time the author's gate (`course dev check`) per chapter, with a projection to 130 "
                             "exercises")
    parser.add_argument("--suite", action="store_true", help="time the project's whole test suite")
    parser.add_argument("--out", default="bench-results/bench.json")
    args = parser.parse_args(argv)
    course = config.load(config.find_root())
    chapters = [course.chapter(c) for c in args.chapters] if args.chapters else course.chapters
    report = {"machine": {"cpus": multiprocessing.cpu_count(), "torch": torch.__version__,
                          "cuda": torch.cuda.is_available()}}
    print("== course check on the reference, fresh process (wall seconds)")
    report["check_wall"] = check_wall_times(course, chapters)
    for row in report["check_wall"]:
        print(f"  {row['chapter']}: {row['wall_s']:.2f} s  ({row['checks']} checks, exit {row['exit_code']})")
    print("== reference vs PyTorch built-in (1 thread, median)")
    report["reference_speed"] = reference_vs_builtin(course)
    for row in report["reference_speed"]:
        print(f"  {row['exercise']:<16} {row['reference_ms']:8.3f} ms vs {row['builtin']}: {row['builtin_ms']:8.3f} ms"
              f"  -> {row['ratio']:.2f}x")
    print("== isolation")
    report["isolation"] = isolation_cost()
    iso = report["isolation"]
    print(f"  worker start (incl. import torch) {iso['worker_start_s']:.2f} s; one call {iso['call_ms_median']:.3f} ms;"
          f" plain `python -c 'import torch'` {iso['python_import_torch_s']:.2f} s")
    if args.gate:
        print("== the author's gate, in one process (wall seconds)")
        gate = report["gate"] = gate_times(course, chapters)
        for row in gate["chapters"]:
            print(f"  {row['chapter']}: {row['seconds']:.1f} s for {row['exercises']} exercises and "
                  f"{row['variants']} variants ({row['problems']} problems)")
        print(f"  total {gate['total_s']:.1f} s; {gate['per_exercise_s']:.2f} s per exercise "
              f"({gate['variants_per_exercise']:.1f} variants each); projected for 130 exercises: "
              f"{gate['projected_130_exercises_s'] / 60:.1f} min")
    if args.suite:
        print("== the project's test suite")
        report["suite"] = suite_time(course)
        print(f"  {report['suite']['wall_s'] / 60:.1f} min: {report['suite']['summary']}")
    if args.flake:
        print(f"== speed checks of the references, {args.flake} runs with the other core busy")
        report["flake"] = flake_runs(course, args.flake)
        for name, o in report["flake"].items():
            print(f"  {name}: {o['passed']}/{o['runs']} passed")
    if args.classroom:
        print("== classroom: seconds per submission (ch10, 4 students, 2 jobs)")
        proc = subprocess.run([sys.executable, "-m", "torchcourse.classroom.bench", "--chapter", "ch10",
                               "--students", "4", "--jobs", "2"], capture_output=True, text=True, check=False)
        try:
            report["classroom"] = json.loads(proc.stdout[proc.stdout.index("{"):])
            print("  " + json.dumps(report["classroom"]))
        except (ValueError, IndexError):
            report["classroom"] = {"error": proc.stderr[-2000:]}
            print("  could not run: " + proc.stderr[-500:])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
