"""Trusted-side helpers shared by several graders (they run in the judging process, never in a worker)."""
