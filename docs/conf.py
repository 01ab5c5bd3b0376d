"""Sphinx configuration for Quaver's documentation.

Built offline with warnings as errors by tests/test_docs.py:
``sphinx-build -W -b html docs <out>``. Pages are Markdown (MyST), so the
files GitHub shows and the site are the same files.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")))

project = "Quaver"
author = "Quaver's authors"
copyright = "2026, Quaver's authors"
release = "0.1.0"

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

# Headings as link targets (#installing-quaver), as GitHub makes them.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Nothing is fetched at build time: the default theme, no intersphinx, no fonts.
html_theme = "alabaster"
html_theme_options = {"description": "Flask's API on asyncio, a drop-in for Quart", "fixed_sidebar": True}
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
