"""``python -m quaver``: the ``quaver`` command."""

from .cli import main

if __name__ == "__main__":
    main()
