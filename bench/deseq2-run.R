# Time DESeq2's whole analysis (DESeq + results) on a dataset folder of ../shared/data layout:
#   Rscript bench/deseq2-run.R ../shared/data/bodymap "~ tissue"
# Prints "<dataset> <seconds>" (R's start-up and the reading of the files excluded).
suppressMessages(library(DESeq2))
args <- commandArgs(TRUE)
d <- args[1]; design <- args[2]
counts <- as.matrix(read.csv(file.path(d, "counts.csv"), row.names = 1, check.names = FALSE))
meta <- read.csv(file.path(d, "metadata.csv"), row.names = 1)
meta <- meta[colnames(counts), , drop = FALSE]
for (v in colnames(meta)) if (is.character(meta[[v]])) meta[[v]] <- factor(meta[[v]])
dds <- DESeqDataSetFromMatrix(counts, meta, as.formula(design))
t <- system.time({ dds <- DESeq(dds, quiet = TRUE); res <- results(dds) })
cat(sprintf("%s %.2f\n", basename(d), t[["elapsed"]]))
