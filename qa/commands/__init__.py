"""One module per ``qa`` subcommand (see ``qa.cli``)."""
