"""Run fedpydeseq2's own ComputeLFC.compute_lfc ("lfc" mode) in a simulated federation.

The numerical code is upstream's, imported unchanged (fedpydeseq2 at
f138d2073977de460a32303018cdc3232b48bca7, pydeseq2 0.4.9, both on PYTHONPATH);
substrafl is replaced by the minimal stand-ins in ./stubs, and two environment
shims live in ./compat (put both folders on PYTHONPATH first; see run.sh). The driver:

  1. reads a dataset in fedseq's layout (counts.csv genes x samples, metadata.csv
     with a `center` column), a design matrix CSV (sample, one column per
     coefficient), size factors (sample,size_factor) and dispersions
     (gene,dispersion);
  2. builds, for every center (sorted by name = federation order), what its opener
     returns (AnnData X = int64 counts, obs = metadata) and its own copy of
     upstream's DESeq2Strategy whose local_adata holds what upstream's earlier
     pipeline steps leave there before compute_lfc: the counts, obsm design_matrix
     and size_factors, varm non_zero and dispersions, uns n_params and
     _global_gram_matrix (sum over centers of X_c^T X_c);
  3. times strategy.compute_lfc(train_data_nodes, aggregation_node, local_states,
     round_idx=0, lfc_mode="lfc") -- upstream's own plan: local init step,
     beta-init aggregation, irls_num_iter + 1 IRLS rounds, PQN_num_iters + 1 PQN
     rounds, the local save step -- with the stub nodes running each step as it is
     registered;
  4. optionally (--check DIR) compares with a fixture folder's lfc.json and
     inputs.json, and (--out) writes beta as CSV.

Prints one JSON line on stdout (fit seconds per run, and the check).
"""

import argparse
import copy
import json
import os
import sys
import time

T_PROCESS_START = time.time()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.stats  # noqa: E402

import compat_scipy  # noqa: E402  (scipy < 1.11 only; see the module)
import anndata as ad  # noqa: E402

import compat_anndata  # noqa: E402  (anndata < 0.9.2 only; see the module)
from substrafl.nodes import AggregationNode  # noqa: E402  (the stub)
from substrafl.nodes import TrainDataNode  # noqa: E402
from substrafl.nodes.references.local_state import LocalStateRef  # noqa: E402

from fedpydeseq2.core.deseq2_strategy import DESeq2Strategy  # noqa: E402

T_IMPORTS_DONE = time.time()
SF_USED = {}
OLD_ANNDATA = tuple(int(x) for x in ad.__version__.split(".")[:2]) < (0, 9)


def read_csv(path, **kw):
    # pandas' default float parser may be 1 ulp off; round_trip = Python's float()
    return pd.read_csv(path, index_col=0, float_precision="round_trip", **kw)


def load_inputs(args):
    counts = read_csv(args.counts or os.path.join(args.data, "counts.csv"))
    counts.index = counts.index.astype(str)
    meta = read_csv(os.path.join(args.data, "metadata.csv"))
    meta.index = meta.index.astype(str)
    design = read_csv(args.design_matrix).astype(float)
    design.index = design.index.astype(str)
    sf = read_csv(args.size_factors)["size_factor"].astype(float)
    sf.index = sf.index.astype(str)
    disp = read_csv(args.dispersions)["dispersion"].astype(float)
    disp.index = disp.index.astype(str)
    samples = list(counts.columns)
    assert set(samples) == set(meta.index) == set(design.index) == set(sf.index)
    return counts, meta.loc[samples], design.loc[samples], sf.loc[samples], disp


def build_federation(counts, meta, design, sf, disp, hp, transport):
    """Per-center opener output and algorithm copy, as upstream's pipeline leaves them
    just before compute_lfc."""
    genes = counts.index
    X_all = counts.values.T.astype(np.int64)  # samples x genes
    centers = sorted(meta["center"].astype(str).unique())
    samples = np.array(counts.columns)
    center_of = meta["center"].astype(str).values
    # non_zero: some sample of some center has a count (upstream: the genewise
    # dispersions' set-up step, from every center's "any count" share)
    non_zero = (X_all != 0).any(axis=0)
    dispersions = disp.reindex(genes).values.astype(float)
    dispersions[~non_zero] = np.nan
    assert np.all(np.isfinite(dispersions[non_zero])), "missing dispersion for a gene with counts"
    grams = []
    per_center = []
    for c in centers:
        idx = np.where(center_of == c)[0]
        Xd = design.iloc[idx]
        grams.append(Xd.values.T @ Xd.values)
        per_center.append((c, idx, Xd))
    global_gram = sum(grams)  # upstream aggregates the local gram matrices with sum()

    template = DESeq2Strategy(
        design_factors=[col for col in meta.columns if col != "center"][:1] or "condition",
        min_mu=hp["min_mu"], beta_tol=hp["beta_tol"], max_beta=hp["max_beta"],
        irls_num_iter=hp["irls_num_iter"], irls_batch_size=hp["irls_batch_size"],
        PQN_c1=hp["PQN_c1"], PQN_ftol=hp["PQN_ftol"], PQN_num_iters_ls=hp["PQN_num_iters_ls"],
        PQN_num_iters=hp["PQN_num_iters"], PQN_min_mu=hp["PQN_min_mu"],
        num_jobs=hp["num_jobs"], joblib_backend=hp["joblib_backend"], joblib_verbosity=0,
    )
    nodes_data = []
    for c, idx, Xd in per_center:
        obs = meta.iloc[idx].drop(columns=["center"])
        X = pd.DataFrame(X_all[idx], index=samples[idx], columns=genes)
        # what the center's opener returns: AnnData(X=counts table, obs=metadata); anndata
        # < 0.9 would cast X to float32 unless told the dtype (0.10 keeps int64)
        opener_adata = ad.AnnData(X=X, obs=obs, dtype=np.int64) if OLD_ANNDATA else ad.AnnData(X=X, obs=obs)
        local = opener_adata.copy()  # upstream: self.local_adata = data_from_opener.copy()
        local.obsm["design_matrix"] = Xd.copy()
        local.obsm["size_factors"] = sf.values[idx].copy()
        local.varm["non_zero"] = non_zero.copy()
        local.varm["dispersions"] = dispersions.copy()
        local.uns["n_params"] = Xd.shape[1]
        local.uns["_global_gram_matrix"] = global_gram.copy()
        nodes_data.append((c, opener_adata, local))
    return template, nodes_data, genes, non_zero, centers, global_gram


class Recorder:
    """Aggregation-output hook (--check only): per-round mask counts, IRLS end state."""

    PHASE = {"create_beta_init": "init", "make_global_irls_update": "irls",
             "choose_step_and_compute_ascent_direction": "pqn"}

    def __init__(self):
        self.rounds = {"init": [], "irls": [], "pqn": []}
        self.irls_end = None
        self.last = None

    def __call__(self, operation, out):
        phase = self.PHASE[operation.method.__name__]
        summary = {"n_" + k: int(np.sum(out[k])) for k in
                   ("irls_mask", "irls_diverged_mask", "PQN_mask", "PQN_diverged_mask") if k in out}
        self.rounds[phase].append(summary)
        if phase == "irls":
            self.irls_end = {k: np.array(out[k]) for k in ("irls_mask", "irls_diverged_mask")}
        self.last = out
        if phase == "init":
            self.beta_init = np.array(out["beta"])


def fit_once(template, nodes_data, transport, recorder=None):
    # Each organisation runs its own copy of the strategy (as substrafl does);
    # copies made before the clock starts.
    train_nodes, local_states = [], {}
    for c, opener_adata, local in nodes_data:
        algo = copy.deepcopy(template)
        algo.local_adata = local.copy()
        algo.refit_adata = None
        algo.results = {}
        train_nodes.append(TrainDataNode(c, data_sample_keys=[c], data_from_opener=opener_adata,
                                         transport=transport))
        local_states[c] = LocalStateRef(algo)
    agg = AggregationNode("aggregator", algo=copy.deepcopy(template), on_output=recorder)
    builder = template  # the object whose compute plan is built (substrafl's strategy)
    t0 = time.perf_counter()
    local_states, round_idx = builder.compute_lfc(
        train_data_nodes=train_nodes, aggregation_node=agg, local_states=local_states,
        round_idx=0, clean_models=True, lfc_mode="lfc", refit_mode=False)
    t1 = time.perf_counter()
    return t1 - t0, local_states, round_idx


def arr(o):
    data = np.array([np.nan if v is None else v for v in np.ravel(o["data"])] if o["dtype"] == "float64"
                    else np.ravel(o["data"]), dtype=o["dtype"])
    return data.reshape(o["shape"])


def check(args, local_states, genes, non_zero, recorder, global_gram, design):
    lfc = json.load(open(os.path.join(args.check, "lfc.json")))
    inputs = json.load(open(os.path.join(args.check, "inputs.json")))
    res = {}
    fx_genes = inputs["genes"]
    nz_genes = list(genes[non_zero])
    res["genes_match"] = fx_genes == nz_genes
    res["design_columns_match"] = inputs["design_columns"] == list(design.columns)
    res["global_gram_max_abs_diff"] = float(np.max(np.abs(arr(inputs["global_gram_matrix"]) - global_gram)))
    res["beta_init_max_abs_diff"] = float(np.max(np.abs(recorder.beta_init - arr(inputs["beta_init"]))))
    res["beta_init_bit_identical"] = bool(np.array_equal(recorder.beta_init, arr(inputs["beta_init"])))
    sf_fx = dict(zip(inputs["samples"], np.ravel(inputs["size_factors"]["data"])))
    res["size_factors_bit_identical"] = bool(all(sf_fx[s] == v for s, v in SF_USED.items()))
    betas = []
    for c, ref in local_states.items():
        adata = ref.algo.local_adata
        betas.append(adata.varm["LFC"].loc[nz_genes].values)
        irls_div = np.asarray(adata.uns["_irls_diverged_mask"])
        pqn_div = np.asarray(adata.uns["_PQN_diverged_mask"])
    res["centers_agree"] = bool(all(np.array_equal(b, betas[0], equal_nan=True) for b in betas))
    beta = betas[0]
    ref_beta = arr(lfc["outputs"]["beta"])
    d = np.abs(beta - ref_beta)
    rel = d / np.maximum(np.abs(ref_beta), 1e-300)
    res["beta_shape"] = list(beta.shape)
    res["beta_max_abs_diff"] = float(np.nanmax(d))
    res["beta_max_rel_diff"] = float(np.nanmax(rel))
    res["beta_n_not_bit_identical"] = int(np.sum(~((beta == ref_beta) | (np.isnan(beta) & np.isnan(ref_beta)))))
    res["beta_nan_pattern_match"] = bool(np.array_equal(np.isnan(beta), np.isnan(ref_beta)))
    res["irls_diverged_mask_equal"] = bool(np.array_equal(irls_div, arr(lfc["outputs"]["irls_diverged_mask"])))
    res["PQN_diverged_mask_equal"] = bool(np.array_equal(pqn_div, arr(lfc["outputs"]["PQN_diverged_mask"])))
    res["irls_end_masks_equal"] = bool(all(np.array_equal(recorder.irls_end[k], arr(lfc["irls_end"][k]))
                                           for k in ("irls_mask", "irls_diverged_mask")))
    # round summaries: number of true entries of each mask after every aggregation
    ok = True
    n_cmp = 0
    mismatch = []
    for phase in ("irls", "pqn"):
        mine = recorder.rounds[phase]
        theirs = lfc["round_summaries"][phase]
        if len(mine) != len(theirs):
            ok = False
            continue
        for m, t in zip(mine, theirs):
            for k, v in t.items():
                if k == "phase_round":
                    continue
                n_cmp += 1
                if m.get(k) != v:
                    ok = False
                    if len(mismatch) < 10:
                        mismatch.append([phase, t["phase_round"], k, m.get(k), v])
    res["round_summaries_equal"] = ok
    res["round_summaries_values_compared"] = n_cmp
    if mismatch:
        res["round_summaries_first_mismatches"] = mismatch
    res["n_rounds"] = {k: len(v) for k, v in recorder.rounds.items()}
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with counts.csv and metadata.csv (center column)")
    p.add_argument("--counts", help="counts table if not DATA/counts.csv")
    p.add_argument("--design-matrix", required=True, help="CSV: sample, one column per coefficient")
    p.add_argument("--size-factors", required=True, help="CSV: sample,size_factor")
    p.add_argument("--dispersions", required=True, help="CSV: gene,dispersion (other columns ignored)")
    p.add_argument("--runs", type=int, default=1, help="fits in this process (each from a fresh state)")
    p.add_argument("--num-jobs", type=int, default=1, help="upstream's num_jobs (joblib); fixtures: 1")
    p.add_argument("--joblib-backend", default="loky")
    p.add_argument("--transport", choices=["pickle", "reference"], default="pickle",
                   help="shared states copied by pickle between nodes (as substrafl) or passed as is")
    p.add_argument("--check", help="fixture folder (end_to_end/<dataset>) to compare with")
    p.add_argument("--out", help="write beta (natural log, non-zero genes) to this CSV")
    args = p.parse_args()

    hp = dict(min_mu=0.5, beta_tol=1e-8, max_beta=30, irls_num_iter=20, irls_batch_size=100,
              PQN_c1=1e-4, PQN_ftol=1e-7, PQN_num_iters_ls=20, PQN_num_iters=100, PQN_min_mu=0.0,
              num_jobs=args.num_jobs, joblib_backend=args.joblib_backend)

    t_load0 = time.perf_counter()
    counts, meta, design, sf, disp = load_inputs(args)
    template, nodes_data, genes, non_zero, centers, global_gram = build_federation(
        counts, meta, design, sf, disp, hp, args.transport)
    t_load = time.perf_counter() - t_load0
    SF_USED.update(sf.to_dict())

    fit_s = []
    result = None
    for i in range(args.runs):
        recorder = Recorder() if (args.check and i == 0) else None
        s, local_states, round_idx = fit_once(template, nodes_data, args.transport, recorder)
        fit_s.append(s)
        if i == 0:
            if args.check:
                result = check(args, local_states, genes, non_zero, recorder, global_gram, design)
            if args.out:
                nz = list(genes[non_zero])
                beta = next(iter(local_states.values())).algo.local_adata.varm["LFC"].loc[nz]
                beta.to_csv(args.out, float_format="%.17g")
    out = {
        "dataset": os.path.abspath(args.data),
        "centers": centers, "n_genes": int(len(genes)), "n_non_zero": int(non_zero.sum()),
        "n_samples": int(counts.shape[1]), "n_params": int(design.shape[1]),
        "round_idx_end": int(round_idx),
        "fit_seconds": [round(x, 4) for x in fit_s],
        "imports_seconds": round(T_IMPORTS_DONE - T_PROCESS_START, 3),
        "load_seconds": round(t_load, 3),
        "anndata_ufunc_backport": compat_anndata.PATCHED,
        "num_jobs": args.num_jobs, "joblib_backend": args.joblib_backend, "transport": args.transport,
        "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                          "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scipy": scipy.__version__ if hasattr(scipy, "__version__") else None,
                     "pandas": pd.__version__, "anndata": ad.__version__},
    }
    if result is not None:
        out["check"] = result
    print(json.dumps(out))


if __name__ == "__main__":
    import scipy  # noqa: F401

    main()
