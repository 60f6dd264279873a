"""fedpydeseq2's package __init__ imports its whole pipeline, whose p-value step imports
scipy.stats.false_discovery_control (scipy >= 1.11). Debian bookworm's scipy is 1.10.1
(the version the fixtures were made with). compute_lfc never calls it: make the import
succeed, and any call fail loudly."""

import scipy.stats

PATCHED = False
if not hasattr(scipy.stats, "false_discovery_control"):

    def _false_discovery_control_unavailable(*args, **kwargs):
        raise NotImplementedError("scipy.stats.false_discovery_control needs scipy >= 1.11")

    scipy.stats.false_discovery_control = _false_discovery_control_unavailable
    PATCHED = True
