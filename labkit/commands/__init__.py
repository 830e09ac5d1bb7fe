"""Subcommands of the ``labkit`` command line, one module each (see ``labkit.cli``)."""
