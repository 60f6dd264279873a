#!/bin/sh
# Parity check against the fixtures, then the alternating timings.
# usage: bench/fedpydeseq2/run.sh check|cohort|bench|all   (from anywhere; needs setup.sh done and
#        `npm run build`; `cohort` writes the 20,000 x 600 x 5 cohort that `bench` then times too)
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/bench/out/fedpydeseq2
export UPSTREAM_DIR=${UPSTREAM_DIR:-$REPO/bench/out/upstream}
# The project's reference data, beside the checkout (as the tests find it).
S=$REPO/../shared/data
FX=$REPO/../shared/fixtures/end_to_end
BIG=${BIG:-$OUT/cohort}
export PYTHONPATH="$HERE/stubs:$HERE/compat:$HERE:$UPSTREAM_DIR/fedpydeseq2:$UPSTREAM_DIR/PyDESeq2"
PY=/usr/bin/python3
what=${1:-all}
mkdir -p "$OUT"

if [ "$what" = check ] || [ "$what" = all ]; then
  mkdir -p "$OUT/check"
  for ds in li_lncap:treatment bodymap:tissue; do
    n=${ds%%:*}; f=${ds##*:}; D=$S/$n
    $PY "$HERE/run_lfc.py" --data "$D" --design-matrix "$D/deseq2/design_matrix.csv" \
      --size-factors "$D/deseq2/size_factors.csv" --dispersions "$D/deseq2/fit.csv" \
      --check "$FX/$n" --out "$OUT/check/harness_$n.csv"
    "$REPO/bin/fedseq" fit-lfc --data "$D" --design "~ $f" --size-factors "$D/deseq2/size_factors.csv" \
      --dispersions "$D/deseq2/fit.csv" --solver upstream --quiet --out "$OUT/check/fedseq_$n"
    $PY "$HERE/compare_fedseq.py" "$FX/$n" "$OUT/check/fedseq_$n/lfc.csv" \
      "$OUT/check/harness_$n.csv"
  done
fi

if [ "$what" = cohort ] || { [ "$what" = all ] && [ ! -f "$BIG/run/dispersions.csv" ]; }; then
  # the 20,000 x 600 x 5 cohort: counts, DESeq2-style size factors and dispersions (fedseq run)
  "$REPO/bin/fedseq" simulate --out "$BIG/sim" --genes 20000 --samples 600 --centers 5 --seed 16
  "$REPO/bin/fedseq" run --data "$BIG/sim" --design "~ condition" --out "$BIG/run" --quiet
  $PY "$HERE/make_design.py" "$BIG/sim/metadata.csv" condition "$BIG/design_matrix.csv"
fi

if [ "$what" = bench ] || [ "$what" = all ]; then
  set -- "bodymap:$S/bodymap:~ tissue:$S/bodymap/deseq2/design_matrix.csv:$S/bodymap/deseq2/size_factors.csv:$S/bodymap/deseq2/fit.csv" \
    "li_lncap:$S/li_lncap:~ treatment:$S/li_lncap/deseq2/design_matrix.csv:$S/li_lncap/deseq2/size_factors.csv:$S/li_lncap/deseq2/fit.csv"
  if [ -f "$BIG/run/dispersions.csv" ]; then
    set -- "$@" "sim_20000x600x5:$BIG/sim:~ condition:$BIG/design_matrix.csv:$BIG/run/size_factors.csv:$BIG/run/dispersions.csv"
  fi
  $PY "$HERE/bench.py" --runs "${RUNS:-3}" --fixed-rounds-too --threads1-too --log "${LOG:-$OUT/bench.jsonl}" "$@"
fi
