# Writes R's own survival datasets (lung, veteran) as CSV for the agreement tests.
# Usage: Rscript export_datasets.R OUTDIR
suppressPackageStartupMessages(library(survival))
out <- commandArgs(trailingOnly = TRUE)[1]
write.csv(survival::lung, file.path(out, "lung.csv"), row.names = FALSE, na = "")
write.csv(survival::veteran, file.path(out, "veteran.csv"), row.names = FALSE, na = "")
