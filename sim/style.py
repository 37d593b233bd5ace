"""The one style of every figure: run figures (``sim.plots``), the report pages
(``sim.report``, ``experiments.report``) and sweep figures (``experiments.figures``).

- colours: the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies),
  one colour and one line style per arm, so two arms that coincide stay visible;
- layout: constrained layout (titles and legends never overlap panels), legends outside the
  data (``legend_outside``);
- years: integer ticks on every time axis (``year_axis``);
- files: PNG written with no software tag and no date (``png_bytes``), so the same figure
  gives the same bytes; ``data_uri`` embeds one in a self-contained page.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sim.atomic import atomic_write_bytes  # noqa: E402

# Okabe & Ito (2008), "Color universal design"; black last (reference lines use grey).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)),
              (0, (8, 2, 2, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
REFERENCE = "0.45"  # grey of reference lines (zero, SAIC hazard, package expiry)
SHADE = "0.88"  # grey of shaded windows (shocks)
DPI = 100
RC = {
    "figure.constrained_layout.use": True,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 11,
    "svg.hashsalt": "transfer-sim",  # deterministic SVG ids
}


def colour(i: int) -> str:
    """The i-th colour of the palette (cycling)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def arm_styles(arms) -> dict:
    """Per arm (in the given order): ``color``, ``ls`` and ``marker`` keyword arguments."""
    return {a: {"color": colour(i), "ls": LINESTYLES[i % len(LINESTYLES)],
                "marker": MARKERS[i % len(MARKERS)]} for i, a in enumerate(arms)}


def figure(nrows: int = 1, ncols: int = 1, width: float = 4.2, height: float = 3.0,
           **kwargs):
    """A figure with constrained layout and a grid of axes (always a 2-D array)."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                                 squeeze=False, layout="constrained", **kwargs)
    for ax in axes.ravel():
        _apply(ax)
    return fig, axes


def _apply(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.title.set_fontsize(10)
    ax.xaxis.label.set_fontsize(9)
    ax.yaxis.label.set_fontsize(9)


def panel_grid(n: int, ncols: int = 3, width: float = 4.2, height: float = 3.0, **kwargs):
    """``n`` panels in rows of at most ``ncols``; unused axes hidden. Returns (fig, axes)."""
    ncols = max(1, min(n, ncols))
    nrows = max(1, (n + ncols - 1) // ncols)
    fig, axes = figure(nrows, ncols, width, height, **kwargs)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, list(axes.ravel()[:n])


def year_axis(ax) -> None:
    """Integer year ticks (no "2017.52020.0..." on short runs)."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%d"))


def legend_outside(target, handles=None, labels=None, ncol: int = 4, title=None) -> None:
    """One legend outside the data: below the panels of a figure, or right of one axis.
    Without ``handles``, the labelled artists of the target (each label once)."""
    is_figure = isinstance(target, matplotlib.figure.Figure)
    if handles is None:
        seen = {}
        for ax in target.axes if is_figure else [target]:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(lab, h)
        labels, handles = list(seen), list(seen.values())
    if not handles:
        return
    if is_figure:
        target.legend(handles, labels, loc="outside lower center",
                      ncol=max(1, min(ncol, len(handles))), title=title, fontsize=8,
                      frameon=False, title_fontsize=8)
    else:
        target.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      title=title, fontsize=8, frameon=False, title_fontsize=8)


def png_bytes(fig, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes with no software tag or date (same figure, same bytes); closes
    the figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def save_png(fig, path: Path, dpi: int = DPI) -> Path:
    """Write the figure atomically as a deterministic PNG; return the path."""
    atomic_write_bytes(Path(path), png_bytes(fig, dpi))
    return Path(path)


def data_uri(png: bytes) -> str:
    """A ``data:`` URI of PNG bytes, for an ``<img>`` in a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
