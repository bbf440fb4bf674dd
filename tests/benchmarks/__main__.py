"""``python -m tests.benchmarks [--quick | --scale S] [--json PATH] [--only PART]``."""

from tests.benchmarks.runner import main

raise SystemExit(main())
