"""``vk print-config CONFIG``: the config after inheritance and ``--cfg-options``, or its diff with another."""

from __future__ import annotations

HELP = "print a config after inheritance and --cfg-options, or its diff against another config"


def add_arguments(parser) -> None:
    from vk_core.config.dict_action import DictAction

    parser.add_argument("config", help="config file, 'pkg::path' or the name of a shipped config")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        metavar="KEY=VALUE",
        help="override settings, e.g. model.backbone.depth=101 'pipeline.1.scale=(1333,800)'",
    )
    parser.add_argument("--diff", metavar="OTHER", help="print a unified diff from CONFIG to OTHER instead")
    parser.add_argument("--format", choices=["py", "json", "yaml"], default="py", help="output format (default: py)")


def run(args) -> int:
    import sys

    from vk_core.config import ConfigError

    try:
        return _run(args)
    except (ConfigError, FileNotFoundError) as exc:
        # Config problems are the user's input: show the message (it names the file and line), not a traceback.
        print(f"vk print-config: error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    import sys

    from vk_core.config import Config, find_config

    cfg = Config.fromfile(find_config(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.diff:
        other = Config.fromfile(find_config(args.diff))
        text = Config.diff(cfg, other, args.config, args.diff)
        sys.stdout.write(text if text else f"no difference between {args.config} and {args.diff}\n")
        return 1 if text else 0
    suffix = {"py": ".py", "json": ".json", "yaml": ".yaml"}[args.format]
    from vk_core.config.render import to_json_text, to_python_text, to_yaml_text

    render = {".py": to_python_text, ".json": to_json_text, ".yaml": to_yaml_text}[suffix]
    sys.stdout.write(render(cfg._cfg_dict))
    return 0
