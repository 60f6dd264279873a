# Times DESeq2's nbinomWaldTest on a shared dataset with DESeq2's own size factors and dispersions
# (deseq2/size_factors.csv, column `dispersion` of deseq2/fit.csv), the reference point of
# `npm run bench -- --with-deseq2`. Prints one JSON line: median elapsed seconds of `reps` calls
# (loading the data and the package not included) and the largest |log2 fold change difference|
# to deseq2/fit.csv (a check that the same fit ran).
# Usage: Rscript bench/deseq2-wald.R DATA_DIR "~ design" REPS
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
design <- as.formula(args[2])
reps <- as.integer(args[3])
counts <- as.matrix(read.csv(file.path(dir, "counts.csv"), row.names = 1, check.names = FALSE))
meta <- read.csv(file.path(dir, "metadata.csv"), row.names = 1, check.names = FALSE)
meta <- meta[colnames(counts), , drop = FALSE]
for (v in all.vars(design)) meta[[v]] <- factor(meta[[v]])
sf <- read.csv(file.path(dir, "deseq2", "size_factors.csv"))
fit <- read.csv(file.path(dir, "deseq2", "fit.csv"), check.names = FALSE)
dds <- suppressMessages(DESeqDataSetFromMatrix(counts, meta, design))
sizeFactors(dds) <- sf$size_factor[match(colnames(dds), sf$sample)]
dispersions(dds) <- fit$dispersion[match(rownames(dds), fit$gene)]
times <- numeric(reps)
for (k in seq_len(reps)) {
  times[k] <- system.time(res <- nbinomWaldTest(dds, quiet = TRUE))[["elapsed"]]
}
coefs <- coef(res)
last <- ncol(coefs)
ref <- fit[match(rownames(res), fit$gene), grep("^beta_log2", names(fit))[last]]
diff <- max(abs(coefs[, last] - ref), na.rm = TRUE)
cat(sprintf('{"seconds": %.4f, "times": [%s], "maxLfcDifference": %.3g, "deseq2": "%s"}\n',
            median(times), paste(sprintf("%.4f", times), collapse = ", "), diff,
            as.character(packageVersion("DESeq2"))))
