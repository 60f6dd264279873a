"""Loaded at start-up by every Python process with this folder on PYTHONPATH, so that
joblib/loky worker processes (upstream's num_jobs > 1), which import fedpydeseq2 on
their own, get the same two environment shims as run_lfc.py (see compat_scipy.py and
compat_anndata.py). Shadows Debian's /etc/python3.11/sitecustomize.py, whose only job
(the apport hook) is repeated here."""

try:
    import apport_python_hook
except ImportError:
    pass
else:
    apport_python_hook.install()

try:  # only for interpreters that have them (Debian's /usr/bin/python3 with its packages)
    import compat_scipy  # noqa: E402,F401
    import compat_anndata  # noqa: E402,F401
except ImportError:
    pass
