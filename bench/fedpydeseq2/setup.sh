#!/bin/sh
# Once, as root: Debian's Python packages (the fixtures' environment: python 3.11, numpy 1.24.2,
# scipy 1.10.1, pandas 1.5.3, anndata 0.8.0) and upstream's sources at the fixtures' commits.
# usage: sh bench/fedpydeseq2/setup.sh FEDPYDESEQ2_GIT PYDESEQ2_GIT [UPSTREAM_DIR]
#   FEDPYDESEQ2_GIT, PYDESEQ2_GIT: git directories (a clone's .git, or a bare repository) of
#   owkin/fedpydeseq2 and owkin/PyDESeq2; UPSTREAM_DIR (default bench/out/upstream) receives
#   fedpydeseq2 at f138d20 and PyDESeq2 0.4.9 (5cc9f29), the versions the fixtures were made with.
set -e
if [ $# -lt 2 ]; then
  echo "usage: sh bench/fedpydeseq2/setup.sh FEDPYDESEQ2_GIT PYDESEQ2_GIT [UPSTREAM_DIR]" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
UPSTREAM_DIR=${3:-$HERE/../out/upstream}
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3-numpy python3-scipy python3-pandas \
  python3-anndata python3-sklearn python3-matplotlib python3-joblib python3-loguru python3-yaml
rm -rf "$UPSTREAM_DIR/fedpydeseq2" "$UPSTREAM_DIR/PyDESeq2"
mkdir -p "$UPSTREAM_DIR/fedpydeseq2" "$UPSTREAM_DIR/PyDESeq2"
git --git-dir="$1" archive f138d2073977de460a32303018cdc3232b48bca7 | tar -x -C "$UPSTREAM_DIR/fedpydeseq2"
git --git-dir="$2" archive 5cc9f294d81429d4424797ae669ef512781c49d6 | tar -x -C "$UPSTREAM_DIR/PyDESeq2"
echo "upstream sources in $UPSTREAM_DIR"
