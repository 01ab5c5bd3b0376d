"""The documentation site in docs/: it builds offline with warnings as errors,
and every Python sample on its pages runs.

How a page's samples are run (the conventions the pages follow):

- The ```python blocks of a page run in order, in one namespace of their own,
  in a fresh temporary directory, as a reader typing them into one file would
  run them; top-level ``await`` is allowed (as in ``python -m asyncio``).
  ``__name__`` is not ``"__main__"``, so ``if __name__ == "__main__": app.run()``
  defines without serving.
- A function a block defines whose name starts with ``test_`` is called (and
  awaited) right after the block, as pytest would call it.
- An ```output block right after a python block is what that block prints
  on stdout and stderr (the app's log lines and tracebacks go there); it is
  compared, with ``...`` standing for any text (doctest's ELLIPSIS), such as
  a log line's time.
- A ```{code-block} with a ``:caption:`` that is a file name (``app.py``,
  ``templates/hello.html``) is written to that file in the directory, for the
  blocks after it (a caption that is a Python file is imported, not run).
- Shell commands (```sh), nginx configurations and ```text blocks (log lines
  with timestamps) are shown, not run.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import importlib
import inspect
import io
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))


@dataclass
class Sample:
    line: int
    kind: str  # "python", "output" or "file"
    code: str
    path: str = ""


def samples(page: Path) -> list[Sample]:
    """The samples of a page that the test runs or checks, in page order."""
    found = []
    for token in MarkdownIt().parse(page.read_text()):
        if token.type != "fence":
            continue
        info = token.info.strip()
        line = token.map[0] + 1 if token.map else 0
        if info == "python":
            found.append(Sample(line, "python", token.content))
        elif info == "output":
            found.append(Sample(line, "output", token.content))
        elif info.startswith("{code-block}"):
            body = token.content.splitlines(keepends=True)
            options = {}
            while body and body[0].startswith(":"):
                name, _, value = body.pop(0)[1:].partition(":")
                options[name.strip()] = value.strip()
            if body and not body[0].strip():
                body.pop(0)  # the blank line after the options
            if "caption" in options:
                found.append(Sample(line, "file", "".join(body), options["caption"]))
    return found


def output_matches(expected: str, got: str) -> bool:
    return doctest.OutputChecker().check_output(expected, got, doctest.ELLIPSIS)


def test_docs_build_offline_with_warnings_as_errors(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    built = {path.stem for path in (tmp_path / "html").glob("*.html")}
    assert {page.stem for page in PAGES} | {"api", "index"} <= built
    assert "quaver.Quaver" in (tmp_path / "html" / "api.html").read_text()
    assert time.monotonic() - started < 120


def test_every_page_is_in_a_toctree() -> None:
    listed = "".join(page.read_text() for page in PAGES)
    for page in PAGES:
        if page.stem != "index":
            assert f"\n{page.stem}\n" in listed, f"{page.name} is in no toctree"


@pytest.mark.parametrize("page", [p for p in PAGES if samples(p)], ids=lambda p: p.name)
async def test_page_samples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    modules_before = set(sys.modules)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    previous_kind = ""
    printed = ""
    # As in a program of the reader's own: no pytest handler on the root
    # logger, so an app's logger gets its default handler (stderr) and what
    # it logs is part of the sample's output. Put back before pytest takes
    # its own handlers off at the end of the call.
    root = logging.getLogger()
    root_handlers = root.handlers[:]
    root.handlers = []
    try:
        for sample in samples(page):
            where = f"{page.name}, line {sample.line}"
            if sample.kind == "file":
                target = tmp_path / sample.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(sample.code)
                importlib.invalidate_caches()
            elif sample.kind == "output":
                assert previous_kind == "python", f"{where}: an output block follows no python block"
                assert output_matches(sample.code, printed), (
                    f"{where}: the sample above printed\n{printed}\nthe page shows\n{sample.code}"
                )
            else:
                printed = await run_block(sample.code, namespace, where)
            previous_kind = sample.kind
    finally:
        root.handlers = root_handlers
        for name in set(sys.modules) - modules_before:
            module = sys.modules[name]
            if getattr(module, "__file__", None) and str(tmp_path) in str(module.__file__):
                del sys.modules[name]


async def run_block(code: str, namespace: dict[str, object], where: str) -> str:
    """Runs one block (then the test functions it defines); returns what it printed
    on stdout and stderr."""
    tree = ast.parse(code, filename=where)
    defined_tests = [
        node.name for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
    ]
    compiled = compile(tree, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = eval(compiled, namespace)  # noqa: S307 - the page's own sample
        if inspect.iscoroutine(result):
            await result
        for name in defined_tests:
            test = namespace[name]
            assert callable(test)
            outcome = test()
            if inspect.isawaitable(outcome):
                await outcome
    return out.getvalue()


def test_sample_conventions_are_followed() -> None:
    """No page shows a Python sample the runner would skip (```py, ```python3, ```pycon)."""
    for page in PAGES:
        for token in MarkdownIt().parse(page.read_text()):
            if token.type == "fence":
                assert token.info.strip() not in {"py", "python3", "pycon", "Python"}, page.name
    assert os.path.exists(DOCS / "conf.py")


def github_slug(heading: str) -> str:
    """The anchor GitHub (and MyST, with myst_heading_anchors) gives a heading."""
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def test_readme_links_into_the_docs_resolve() -> None:
    """README.md is the front door: each relative link it has names a file that
    exists, and an anchor into a page names one of the page's headings."""
    readme = DOCS.parent / "README.md"
    links = []
    for token in MarkdownIt().parse(readme.read_text()):
        for child in token.children or []:
            href = child.attrs.get("href") if child.type == "link_open" else None
            if isinstance(href, str) and not href.startswith(("http:", "https:", "#", "mailto:")):
                links.append(href)
    assert "docs/deployment.md" in links and "docs/bad-input.md" in links
    for href in links:
        path, _, anchor = href.partition("#")
        target = DOCS.parent / path
        assert target.exists(), f"README.md links to {href}, which does not exist"
        if anchor:
            headings = [line.lstrip("#") for line in target.read_text().splitlines() if line.startswith("#")]
            assert anchor in {github_slug(h) for h in headings}, f"README.md: no heading {anchor!r} in {path}"
