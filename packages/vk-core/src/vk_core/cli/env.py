"""``vk env``: what this installation is made of (Python, torch, CUDA, vk packages, the vk-ops op table)."""

from __future__ import annotations

HELP = "print the environment: Python, torch, CUDA, vk package versions and the vk-ops op table"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def run(args) -> int:
    import json

    from vk_core.utils.env import collect_env

    env = collect_env()
    if args.json:
        print(json.dumps(env, indent=2, default=str))
        return 0

    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="vk environment", show_header=False)
    for key, value in env["system"].items():
        table.add_row(key, str(value))
    for name, version in env["packages"].items():
        table.add_row(name, version or "not installed")
    console.print(table)

    ops = env.get("vk_ops")
    if ops is None:
        console.print("vk-ops: not installed")
        return 0
    info = Table(title="vk-ops build", show_header=False)
    for key, value in ops["build_info"].items():
        info.add_row(key, str(value))
    console.print(info)
    op_table = Table(title="vk-ops operators")
    op_table.add_column("op")
    devices = sorted({d for backends in ops["available"].values() for d in backends})
    for device in devices:
        op_table.add_column(device)
    for op, backends in ops["available"].items():
        op_table.add_row(op, *[backends.get(d, "-") for d in devices])
    console.print(op_table)
    return 0
