"""A document's generated block: replaced from the code, checked, rewritten.

``scripts/model_doc_tables.py`` (``docs/model.md``) and ``scripts/results_dictionary.py``
(``results/README.md``) each build their block from Markdown tables (:func:`table`); this
module puts it between the document's markers and gives both the same command line
(``--check`` exits 1 if the block is stale).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def cell(value: object) -> str:
    """A value as a Markdown table cell: one line (runs of whitespace collapsed), pipes
    escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def table(header: tuple[str, ...], rows) -> str:
    """A Markdown table of ``rows`` (tuples of values) under ``header``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_block(text: str, begin: str, end: str, block: str) -> str:
    """``text`` with what lies between its ``begin`` and ``end`` markers replaced by
    ``block``; exactly one pair of markers, in that order."""
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"expected exactly one {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + begin + block + end + tail


def main(description: str, doc: Path, render: Callable[[str], str], script: str,
         argv: list[str] | None = None) -> int:
    """Rewrite ``doc`` with ``render`` (or, with ``--check``, exit 1 if it is stale)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true",
                        help=f"do not write; exit 1 if {doc.name} is out of date")
    parser.add_argument("--doc", type=Path, default=doc, help="document to rewrite")
    args = parser.parse_args(argv)
    old = args.doc.read_text(encoding="utf-8")
    new = render(old)
    if args.check:
        if new != old:
            print(f"{args.doc} is out of date; run {script}", file=sys.stderr)
            return 1
        return 0
    if new != old:
        args.doc.write_text(new, encoding="utf-8")
        print(f"updated {args.doc}")
    return 0
