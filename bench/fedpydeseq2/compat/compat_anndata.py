"""Make numpy ufuncs on anndata ArrayViews return plain arrays, as anndata >= 0.9.2 does.

Debian bookworm ships anndata 0.8.0 (the fixtures' environment); fedpydeseq2 pins 0.10.8.
fedpydeseq2 takes per-gene arrays from AnnData views (adata[:, genes].varm["dispersions"]),
which are anndata ArrayViews. On anndata 0.8 a ufunc of such a view is again an ArrayView
tied to the view's parent, and upstream's masked assignment into the result
(make_irls_update_summands_and_nll_batch: W[mask_nan] = ...) is sent to that parent, which
fails (IndexError). From 0.9.2 on, ufunc results are plain ndarrays. This shim (our own
code) gives ArrayView that behaviour where the installed anndata lacks it: the ufunc runs on
plain ndarray views of the same memory, so values, and arrays written through `out=`, are
unchanged; only the class of the results differs.
"""

import numpy as np
from anndata._core import views


def _plain(value):
    """An ArrayView as an ndarray over the same memory; anything else as it is."""
    return value.view(np.ndarray) if isinstance(value, views.ArrayView) else value


def _ufunc_on_plain_arrays(self, ufunc, method, *inputs, **kwargs):
    if "out" in kwargs:
        kwargs["out"] = tuple(_plain(o) for o in kwargs["out"])
    return getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)


PATCHED = False
if "__array_ufunc__" not in views.ArrayView.__dict__:
    views.ArrayView.__array_ufunc__ = _ufunc_on_plain_arrays
    PATCHED = True
