"""Run Quart code on Quaver unchanged: ``import quaver.as_quart`` first.

After that import, ``import quart`` and ``from quart.X import Y`` give
Quaver's own modules (``quart.testing`` *is* ``quaver.testing``), with
Quart's names beside Quaver's (``Quart`` is ``Quaver``, ``QuartClient`` is
``QuaverClient``), whether or not the real Quart is installed: it is never
imported. What Quart reads from the environment is read as Quart reads it
(``QUART_APP``, ``.quartenv``, ``config.from_prefixed_env()`` with the
``QUART`` prefix).

The module is also a pytest plugin (``pytest -p quaver.as_quart``), and
``quaver run --as-quart`` or ``QUAVER_AS_QUART=1`` switch it on for the
command line. It sits at the top of the package, and nothing imports it:
its machinery (quaver._quart_alias) names Quaver's modules by string, so it
adds nothing to the request path.
"""

from __future__ import annotations

from ._quart_alias import QuartAlreadyImported, install

__all__ = ("QuartAlreadyImported", "install")

install()
