"""Entry point of the ``vk`` console script: finds subcommands and dispatches to them."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from vk_core import __version__
from vk_core.cli import COMMAND_GROUP


def _load_commands() -> tuple[dict[str, object], dict[str, str]]:
    """Returns (name -> command object) and (name -> why it could not be loaded)."""
    commands: dict[str, object] = {}
    broken: dict[str, str] = {}
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        if ep.name in commands:
            continue  # the first distribution to claim a name keeps it
        try:
            command = ep.load()
        except Exception as exc:  # a broken plug-in must not take the whole CLI down
            broken[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
            continue
        missing = [a for a in ("HELP", "add_arguments", "run") if not hasattr(command, a)]
        if missing:
            broken[ep.name] = f"{ep.value} lacks {', '.join(missing)}"
            continue
        commands[ep.name] = command
    return commands, broken


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, str]]:
    commands, broken = _load_commands()
    parser = argparse.ArgumentParser(
        prog="vk",
        description="vk: train, test and inspect computer-vision models.",
        epilog="Unavailable commands: " + "; ".join(f"{k} ({v})" for k, v in broken.items()) if broken else None,
    )
    parser.add_argument("--version", action="version", version=f"vk-core {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in commands.items():
        sub_parser = sub.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser, broken


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser, broken = build_parser()
    if argv and argv[0] in broken:
        print(f"vk: command {argv[0]!r} is installed but failed to load: {broken[argv[0]]}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    status = args._run(args)
    _end_distributed_run()
    return 0 if status is None else int(status)


def _end_distributed_run() -> None:
    """Tear down a process group a command (e.g. ``vk train --launcher pytorch``) started, after it succeeded.

    Commands that never imported torch.distributed pay nothing here.
    """
    torch_dist = sys.modules.get("torch.distributed")
    if torch_dist is not None and torch_dist.is_available() and torch_dist.is_initialized():
        from vk_core.dist import destroy_dist

        destroy_dist()


if __name__ == "__main__":
    sys.exit(main())
