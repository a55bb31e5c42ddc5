# metafor's REML random-effects pool with the Hartung-Knapp CI and the 95 % prediction
# interval, back-transformed to proportions, on small cases of per-center events / totals:
# between-center variance, zero and all-event cells, two centers. Iterated to 1e-12 (the
# default threshold, 1e-5, stops within 1e-5 of the REML estimate).
# Usage: Rscript reml.R OUT.csv
suppressPackageStartupMessages(library(metafor))
cases <- list(
  heterogeneous = list(x = c(2, 15, 30, 8, 40, 3), n = c(40, 50, 60, 45, 55, 38)),
  zero_and_all_cells = list(x = c(0, 12, 20, 5), n = c(10, 30, 20, 25)),
  two_centers = list(x = c(5, 30), n = c(50, 40))
)
rows <- lapply(names(cases), function(name) {
  x <- cases[[name]]$x
  n <- cases[[name]]$n
  fit <- rma(xi = x, ni = n, measure = "PLO", method = "REML", test = "knha", add = 1 / 2,
             to = "only0", control = list(threshold = 1e-12, maxiter = 1000))
  p <- predict(fit, transf = plogis)
  data.frame(case = name, events = paste(x, collapse = ";"), totals = paste(n, collapse = ";"),
             tau2 = fit$tau2, i2_pct = fit$I2, q = fit$QE, q_p_value = fit$QEp,
             estimate = p$pred, lower = p$ci.lb, upper = p$ci.ub, pi_lower = p$pi.lb,
             pi_upper = p$pi.ub)
})
write.csv(do.call(rbind, rows), commandArgs(trailingOnly = TRUE)[1], row.names = FALSE)
