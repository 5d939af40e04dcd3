"""`python -m pipeloom`."""

from .cli import main

main()
