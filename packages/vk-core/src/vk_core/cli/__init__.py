"""The ``vk`` command line.

Every subcommand, the core ones included, is found through the entry-point group ``vk.commands``. The entry
point names a module (or object) with three attributes:

- ``HELP``: one line shown by ``vk --help``;
- ``add_arguments(parser)``: adds the subcommand's arguments to an ``argparse.ArgumentParser``;
- ``run(args) -> int | None``: does the work; the return value is the exit status (``None`` means 0).

Command modules import heavy dependencies inside ``run`` so that ``vk --help`` stays fast.
"""

COMMAND_GROUP = "vk.commands"
