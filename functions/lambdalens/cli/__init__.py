"""The ``lambdalens`` command: thin adapters over the library, one module per sub-command."""
