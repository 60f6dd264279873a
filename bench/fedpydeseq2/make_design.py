"""Write a DESeq2-style design matrix CSV (sample, (Intercept), <factor><level>...) for a
single-factor design ~ FACTOR from a metadata.csv: treatment coding, reference level =
first level in sorted order (DESeq2's default for these level names).

usage: make_design.py METADATA_CSV FACTOR OUT_CSV
"""
import sys

import pandas as pd

meta = pd.read_csv(sys.argv[1], index_col=0)
factor = sys.argv[2]
levels = sorted(meta[factor].astype(str).unique())
X = pd.DataFrame({"(Intercept)": 1.0}, index=meta.index)
for lv in levels[1:]:
    X[f"{factor}{lv}"] = (meta[factor].astype(str) == lv).astype(float)
X.index.name = "sample"
X.to_csv(sys.argv[3])
