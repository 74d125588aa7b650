"""``python -m jogo_dispatch``: the same command as ``jogo-dispatch``."""

from jogo_dispatch.cli import main

main()
