"""Time upstream fedpydeseq2's compute_lfc (run_lfc.py) against fedseq fit-lfc --solver upstream.

For each dataset and each of --runs repetitions, runs one after the other (alternating):
  py      run_lfc.py (fit-only seconds from its JSON; whole = the command's wall time)
  py-unset  where OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set: the same without them
  fs      bin/fedseq fit-lfc --solver upstream (run.json seconds; whole = the command's wall time)
  fs-fit  fedseq's fit alone (bench/fit-child.mjs: set-up steps + rounds, tables already read,
          no secure aggregation), the counterpart of run_lfc.py's fit-only seconds
  fs-unset  the same without the two OpenBLAS variables
  fs-fixed  (with --fixed-rounds-too) fedseq with --fixed-rounds (upstream's static 123 rounds)
Every process is a fresh one. Writes one JSON line per run to --log and prints a median table.

usage: bench.py --runs 3 --log FILE DATASET_SPEC...
DATASET_SPEC = name:data_dir:design_formula:design_matrix_csv:size_factors_csv:dispersions_csv
"""
import argparse
import resource
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
UPSTREAM = os.environ.get("UPSTREAM_DIR", os.path.join(REPO, "bench", "out", "upstream"))
PY = "/usr/bin/python3"
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# Some machines set these for old OpenBLAS builds; they slow a current numpy: where set, each run is
# repeated without them.
BLAS_SET = any(v in os.environ for v in BLAS_VARS)


def env_for(unset):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(HERE, "stubs"), os.path.join(HERE, "compat"), HERE,
                                         os.path.join(UPSTREAM, "fedpydeseq2"),
                                         os.path.join(UPSTREAM, "PyDESeq2")])
    if unset:
        for v in BLAS_VARS:
            env.pop(v, None)
    return env


def timed(cmd, env):
    load = os.getloadavg()[0]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed.cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, p.stdout, load


def run_py(ds, unset):
    cmd = [PY, os.path.join(HERE, "run_lfc.py"), "--data", ds["data"], "--design-matrix", ds["design_matrix"],
           "--size-factors", ds["size_factors"], "--dispersions", ds["dispersions"]]
    wall, out, load = timed(cmd, env_for(unset))
    j = json.loads(out.strip().splitlines()[-1])
    return {"fit_s": j["fit_seconds"][0], "whole_s": wall, "cpu_s": timed.cpu, "imports_s": j["imports_seconds"],
            "load_s": j["load_seconds"], "load1": load, "openblas_env": j["openblas_env"]}


def run_fs(ds, unset, fixed, threads=None):
    with tempfile.TemporaryDirectory() as out_dir:
        cmd = [os.path.join(REPO, "bin", "fedseq"), "fit-lfc", "--data", ds["data"], "--design", ds["design"],
               "--size-factors", ds["size_factors"], "--dispersions", ds["dispersions"],
               "--solver", "upstream", "--quiet", "--out", out_dir]
        if fixed:
            cmd.append("--fixed-rounds")
        if threads is not None:
            cmd += ["--threads", str(threads)]
        wall, _, load = timed(cmd, env_for(unset))
        rj = json.load(open(os.path.join(out_dir, "run.json")))
    return {"run_json_s": rj["seconds"], "whole_s": wall, "cpu_s": timed.cpu, "rounds": rj["rounds"]["total"], "load1": load}


def run_fs_child(ds, unset):
    """fedseq's fit alone (set-up steps and rounds, tables already read, no secure aggregation,
    like upstream's simulation): bench/fit-child.mjs, started as bin/fedseq starts Node."""
    with tempfile.TemporaryDirectory() as out_dir:
        env = env_for(unset)
        env["GLIBC_TUNABLES"] = (env["GLIBC_TUNABLES"] + ":" if env.get("GLIBC_TUNABLES") else "") + \
            "glibc.malloc.hugetlb=1"
        cmd = ["node", "--initial-old-space-size=256", os.path.join(REPO, "bench", "fit-child.mjs"),
               ds["data"], ds["design"], ds["size_factors"], ds["dispersions"], "upstream", "irls-pqn", out_dir]
        wall, out, load = timed(cmd, env)
        j = json.loads(out.strip().splitlines()[-1])
    return {"fit_alone_s": j["fitSeconds"], "child_seconds": j["seconds"], "whole_s": wall,
            "cpu_s": timed.cpu, "rounds": j["rounds"], "threads": j["threads"], "load1": load}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fixed-rounds-too", action="store_true")
    ap.add_argument("--threads1-too", action="store_true", help="also fedseq --threads 1")
    ap.add_argument("specs", nargs="+")
    a = ap.parse_args()
    datasets = []
    for s in a.specs:
        name, data, design, dm, sf, disp = s.split(":")
        datasets.append(dict(name=name, data=data, design=design, design_matrix=dm, size_factors=sf,
                             dispersions=disp))
    rows = []
    with open(a.log, "a") as log:
        for ds in datasets:
            for i in range(a.runs):
                kinds = [("py", lambda: run_py(ds, False)), ("fs", lambda: run_fs(ds, False, False)),
                         ("fs-fit", lambda: run_fs_child(ds, False))]
                if BLAS_SET:
                    kinds += [("py-unset", lambda: run_py(ds, True)), ("fs-unset", lambda: run_fs(ds, True, False)),
                              ("fs-fit-unset", lambda: run_fs_child(ds, True))]
                if a.fixed_rounds_too:
                    kinds.append(("fs-fixed", lambda: run_fs(ds, False, True)))
                if a.threads1_too:
                    kinds.append(("fs-t1", lambda: run_fs(ds, False, False, 1)))
                for kind, fn in kinds:
                    r = fn()
                    r.update(dataset=ds["name"], kind=kind, run=i)
                    rows.append(r)
                    log.write(json.dumps(r) + "\n")
                    log.flush()
                    print(json.dumps(r), file=sys.stderr)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    print("| dataset | env | python fit-only | python whole | fedseq fit alone | fedseq run.json | fedseq whole | "
          "fit alone / fit-only | run.json / fit-only | whole / whole | CPU s python / fedseq (whole) | load1 (median) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for ds in datasets:
        for suffix, label in (("", "as set"), ("-unset", "OPENBLAS_* unset"))[: 2 if BLAS_SET else 1]:
            py = [r for r in rows if r["dataset"] == ds["name"] and r["kind"] == "py" + suffix]
            fs = [r for r in rows if r["dataset"] == ds["name"] and r["kind"] == "fs" + suffix]
            pf, pw = med([r["fit_s"] for r in py]), med([r["whole_s"] for r in py])
            ff, fw = med([r["run_json_s"] for r in fs]), med([r["whole_s"] for r in fs])
            ld = med([r["load1"] for r in py + fs])
            pc, fc = med([r["cpu_s"] for r in py]), med([r["cpu_s"] for r in fs])
            fa = med([r["fit_alone_s"] for r in rows if r["dataset"] == ds["name"] and r["kind"] == "fs-fit" + suffix])
            print(f"| {ds['name']} | {label} | {pf:.2f} s | {pw:.2f} s | {fa:.2f} s | {ff:.2f} s | {fw:.2f} s | "
                  f"{fa / pf:.2f} | {ff / pf:.2f} | {fw / pw:.2f} | {pc:.2f} / {fc:.2f} | {ld:.2f} |")
        for kind, label in (("fs-fixed", "fedseq --fixed-rounds"), ("fs-t1", "fedseq --threads 1")):
            fx = [r for r in rows if r["dataset"] == ds["name"] and r["kind"] == kind]
            if fx:
                print(f"| {ds['name']} | {label} ({fx[0]['rounds']} rounds) | | | | "
                      f"{med([r['run_json_s'] for r in fx]):.2f} s | {med([r['whole_s'] for r in fx]):.2f} s | | | | "
                      f"- / {med([r['cpu_s'] for r in fx]):.2f} | |")


if __name__ == "__main__":
    main()
