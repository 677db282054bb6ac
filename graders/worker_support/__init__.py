"""Worker-side helpers the graders hand to learner code: copied into every worker as the package
``worker_support`` (the engine ships it; see docs/authoring.md). Plain torch code with no secrets."""
