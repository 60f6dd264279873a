"""Compare a fedseq fit-lfc lfc.csv (log2 columns) -- and optionally the harness's
beta CSV (run_lfc.py --out, natural log) -- with a fixture's lfc.json beta.

usage: compare_fedseq.py FIXTURE_DIR FEDSEQ_LFC_CSV [HARNESS_BETA_CSV]

Exits 1 when a fit is not the fixture's: a mask differs, or a coefficient is further from it
than the fixture's own one-ulp sensitivity (summary.json's ulp_max_abs_beta_change for the
dataset's "lfc" row: how far upstream's beta moves when its inputs move by one ulp).
"""
import os
import json
import math
import sys

import numpy as np
import pandas as pd


def arr(o):
    flat = [np.nan if v is None else v for v in np.ravel(np.array(o["data"], dtype=object))]
    return np.array(flat, dtype=o["dtype"]).reshape(o["shape"])


def diffs(a, b):
    d = np.abs(a - b)
    rel = d / np.maximum(np.abs(b), 1e-300)
    return {"max_abs": float(np.nanmax(d)), "max_rel": float(np.nanmax(rel)),
            "n_values": int(a.size), "n_not_identical": int(np.sum(a != b))}


fx, fcsv = sys.argv[1], sys.argv[2]
inputs = json.load(open(f"{fx}/inputs.json"))
lfc = json.load(open(f"{fx}/lfc.json"))
genes = inputs["genes"]
ref = arr(lfc["outputs"]["beta"])  # natural log
p = ref.shape[1]
df = pd.read_csv(fcsv, index_col=0, float_precision="round_trip").loc[genes]
coef = df.iloc[:, :p].values.astype(float)  # log2, design-column order
out = {"genes": len(genes), "columns": list(df.columns[:p])}
out["fedseq_vs_fixture_log2"] = diffs(coef, ref / math.log(2))
out["fedseq_vs_fixture_ln"] = diffs(coef * math.log(2), ref)
irls_div = arr(lfc["outputs"]["irls_diverged_mask"])
pqn_div = arr(lfc["outputs"]["PQN_diverged_mask"])
irls_end_active = arr(lfc["irls_end"]["irls_mask"])
caught = df["pqn_caught"].astype(str).str.lower().eq("true").values
div = df["pqn_diverged"].astype(str).str.lower().eq("true").values
out["pqn_caught_equals_fixture_irls_unfinished"] = bool(np.array_equal(caught, irls_end_active | irls_div))
out["pqn_diverged_equals_fixture"] = bool(np.array_equal(div, pqn_div))
if len(sys.argv) > 3:
    h = pd.read_csv(sys.argv[3], index_col=0, float_precision="round_trip").loc[genes].values
    out["harness_vs_fixture_ln"] = diffs(h, ref)
    out["fedseq_vs_harness_ln"] = diffs(coef * math.log(2), h)
summary = json.load(open(os.path.join(fx, "..", "summary.json")))
name = os.path.basename(os.path.normpath(fx))
bound = next(r["ulp_max_abs_beta_change"] for r in summary["rows"]
             if r["dataset"] == name and r["mode"] == "lfc")
out["bound_ln"] = bound
checked = [k for k in ("fedseq_vs_fixture_ln", "harness_vs_fixture_ln") if k in out]
out["parity"] = (out["pqn_caught_equals_fixture_irls_unfinished"] and out["pqn_diverged_equals_fixture"]
                 and all(out[k]["max_abs"] <= bound for k in checked))
print(json.dumps(out, indent=1))
if not out["parity"]:
    sys.exit(f"{name}: not the fixture's fit (bound {bound:.2e} on beta, natural log)")
