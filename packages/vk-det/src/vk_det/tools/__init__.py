"""Command-line tools behind ``vk det ...``; each module has HELP, add_arguments(parser) and run(args)."""
