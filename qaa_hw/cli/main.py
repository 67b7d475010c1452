"""``qaa_hw`` command-line entry point: parse, dispatch, turn errors into one line.

Each command group lives in its own module with ``register(subparsers)``; heavy SDKs
are imported inside the command functions so ``qaa_hw --help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from qaa_hw import __version__
from qaa_hw.cli import (
    compile_cmd,
    devices_cmd,
    finetune_cmd,
    report_cmd,
    run_cmd,
    simulate_cmd,
    sweep_cmd,
)
from qaa_hw.errors import QaaHwError

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate docs)."""
    parser = argparse.ArgumentParser(
        prog="qaa_hw",
        description="Noise-aware hardware co-design for quantum-amplitude adapters (QAA).",
    )
    parser.add_argument("--version", action="version", version=f"qaa_hw {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    devices_cmd.register(sub)
    compile_cmd.register(sub)
    simulate_cmd.register(sub)
    finetune_cmd.register(sub)
    sweep_cmd.register(sub)
    report_cmd.register(sub)
    run_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        result: int = args.func(args)
    except QaaHwError as e:
        print(f"qaa_hw: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("qaa_hw: interrupted", file=sys.stderr)
        return 130
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
