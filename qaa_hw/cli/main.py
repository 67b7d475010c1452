"""``qaa_hw`` command-line entry point: parse, dispatch, turn errors into one line.

Each command group lives in its own module with ``register(subparsers)``; heavy SDKs
are imported inside the command functions so ``qaa_hw --help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

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
from qaa_hw.shutdown import as_interrupted, signals_raise

EXIT_USER_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line, ``qaa_hw CMD: error: ...`` (exit 2).

    Sub-command parsers are created with the parser's own class, so every command, present
    or added later, inherits it; ``--help`` is unchanged.
    """

    def error(self, message: str) -> NoReturn:
        """Print one line naming the command and exit with status 2."""
        text = re.sub(r"^argument (\S+): (?=\1=)", "", " ".join(message.split()))
        self.exit(EXIT_USER_ERROR,
                  f"{self.prog}: error: {text} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate docs)."""
    parser = OneLineParser(
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
        with signals_raise():
            result: int = args.func(args)
    except QaaHwError as e:
        print(f"qaa_hw {args.command}: error: {_one_line(str(e))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as e:  # the environment (a full disk, a vanished folder), not a bug
        logging.getLogger(__name__).debug("OSError in %s", args.command, exc_info=True)
        where = f" {str(e.filename)!r}" if e.filename else ""
        print(f"qaa_hw {args.command}: error: cannot access{where}: "
              f"{_one_line(e.strerror or str(e))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as e:
        stop = as_interrupted(e, getattr(e, "hint", ""))
        print(f"qaa_hw {args.command}: interrupted by {stop}"
              + (f"; {stop.hint}" if stop.hint else ""), file=sys.stderr)
        return stop.exit_code
    return result


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
