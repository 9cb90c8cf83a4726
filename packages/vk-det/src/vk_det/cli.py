"""``vk det ...``: the det tools, contributed to the ``vk`` command through the ``vk.commands`` entry point."""

from __future__ import annotations

HELP = "vk-det tools"

# name -> module with HELP, add_arguments(parser), run(args); filled as the tools land.
TOOLS: dict[str, str] = {
    "convert": "vk_det.tools.convert",
    "infer": "vk_det.tools.infer",
    "browse-dataset": "vk_det.tools.browse_dataset",
    "confusion-matrix": "vk_det.tools.confusion_matrix",
    "benchmark": "vk_det.tools.benchmark",
    "get-flops": "vk_det.tools.get_flops",
}


def add_arguments(parser) -> None:
    import importlib

    sub = parser.add_subparsers(dest="det_tool", metavar="TOOL")
    for name, module_name in TOOLS.items():
        tool = importlib.import_module(module_name)
        tool_parser = sub.add_parser(name, help=tool.HELP, description=tool.HELP)
        tool.add_arguments(tool_parser)
        tool_parser.set_defaults(_tool_run=tool.run)
    parser.set_defaults(_print_help=parser.print_help)


def run(args) -> int | None:
    if getattr(args, "_tool_run", None) is None:
        args._print_help()
        return 0
    return args._tool_run(args)
