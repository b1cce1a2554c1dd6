"""One module per `her2kg` subcommand (see `her2kg.cli.COMMANDS`)."""
