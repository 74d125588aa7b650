"""``python -m jogo_dispatch.cli``: the same command as ``jogo-dispatch``."""

from jogo_dispatch.cli import main

main()
