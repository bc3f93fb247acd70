"""Run every benchmark module in turn: ``python -m benchmarks [--quick]``."""

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        print(f"== benchmarks.{info.name}")
        importlib.import_module(f"benchmarks.{info.name}").main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
