# Computes every endpoint R can compute from a canonical patients CSV, independently of
# the Python code: R `survival` for KM, log-rank, Cox and concordance; prop.test for
# Wilson; Collett's SE and DerSimonian-Laird written out from their textbook formulas;
# metafor for the REML / Hartung-Knapp pool and its prediction interval.
# Usage: Rscript endpoints.R PATIENTS.csv RESULTS.csv
suppressPackageStartupMessages(library(survival))
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "")
for (col in c("surgery_date", "last_contact_date", "death_date", "local_recurrence_date")) {
  d[[col]] <- as.Date(d[[col]])
}
month <- 30.4375
d$os_days <- as.numeric(d$last_contact_date - d$surgery_date)
d$os_months <- d$os_days / month
d$os_event <- as.integer(d$vital_status == "dead")
has_lr <- d$local_recurrence %in% TRUE & !is.na(d$local_recurrence_date)
lc_end <- ifelse(has_lr, as.numeric(d$local_recurrence_date), as.numeric(d$last_contact_date))
d$lc_months <- (lc_end - as.numeric(d$surgery_date)) / month
d$lc_event <- as.integer(has_lr)
procedures <- c("palliative", "curettage", "en_bloc")
# A center's data cut-off: here none is stated, so its latest last contact.
d$cutoff <- as.Date(ave(as.numeric(d$last_contact_date), d$center_id, FUN = max),
                    origin = "1970-01-01")

rows <- list()
add <- function(scope, stratum, endpoint, n, estimate = NA, numerator = NA,
                denominator = NA, se = NA, lo = NA, hi = NA, p = NA) {
  # The contract: a scope x stratum without patients has n = 0 and every value null.
  if (n == 0) {
    estimate <- numerator <- denominator <- se <- lo <- hi <- p <- NA
  }
  rows[[length(rows) + 1]] <<- data.frame(
    center_id = scope, stratum = stratum, endpoint = endpoint, n = n,
    estimate = unname(estimate), numerator = numerator, denominator = denominator,
    se = unname(se), ci_lower = unname(lo), ci_upper = unname(hi), p_value = unname(p))
}

proportion <- function(scope, stratum, endpoint, n, x, m) {
  if (m == 0) return(add(scope, stratum, endpoint, n, NA, x, m))
  ci <- suppressWarnings(prop.test(x, m, correct = FALSE)$conf.int)
  add(scope, stratum, endpoint, n, 100 * x / m, x, m, NA, 100 * ci[1], 100 * ci[2])
}

collett_se <- function(fit, median) {
  if (is.na(median)) return(NA)
  ev <- fit$n.event > 0
  t <- fit$time[ev]
  s <- fit$surv[ev]
  tol <- sqrt(.Machine$double.eps)  # as the median's rule: 0.55 computed as 0.5499...9 is 0.55
  if (!any(s >= 0.55 - tol) || !any(s <= 0.45 + tol)) return(NA)
  u <- max(which(s >= 0.55 - tol))
  l <- min(which(s <= 0.45 + tol))
  density <- (s[u] - s[l]) / (t[l] - t[u])
  summary(fit, times = median)$std.err / density
}

km_rates <- function(fit, at) {
  # One row per time: 100 x (surv, std.err, lower, upper); NA beyond the curve's last time,
  # where summary(extend = FALSE) would refuse the time.
  out <- matrix(NA, length(at), 4)
  inside <- at <= max(fit$time)
  if (any(inside)) {
    sm <- summary(fit, times = at[inside], extend = FALSE)
    out[inside, ] <- 100 * cbind(sm$surv, sm$std.err, sm$lower, sm$upper)
  }
  out
}

z <- qnorm(0.975)

horizons_block <- function(s, fit, scope, stratum, n) {
  # Version 2: deaths, numbers at risk, RMST to a common horizon, cumulative incidence.
  add(scope, stratum, "os_events_n", n, sum(s$os_event), sum(s$os_event), n)
  at <- c(6, 12, 24)
  risk <- summary(fit, times = at, extend = TRUE)$n.risk
  for (i in 1:3) add(scope, stratum, paste0("os_at_risk_", at[i], "m"), n, risk[i], risk[i], n)
  for (h in c(24, 60)) {
    code <- paste0("os_rmst_", h, "m")
    if (h > max(fit$time)) { add(scope, stratum, code, n); next }
    tab <- summary(fit, rmean = h)$table
    m <- tab["rmean"]; se <- tab["se(rmean)"]
    add(scope, stratum, code, n, m, se = se, lo = m - z * se, hi = m + z * se)
  }
  state <- factor(ifelse(s$lc_event == 1, 1, ifelse(s$os_event == 1, 2, 0)), levels = 0:2,
                  labels = c("censored", "recurrence", "death"))
  aj <- survfit(Surv(s$lc_months, state) ~ 1)
  k <- match("recurrence", aj$states)
  for (h in c(12, 24)) {
    code <- paste0("lc_cuminc_", h, "m")
    if (h > max(aj$time)) { add(scope, stratum, code, n); next }
    sm <- summary(aj, times = h)
    p <- sm$pstate[1, k]
    # endpoints.md: 0 with a null CI when no recurrence by t (R gives NA, or 0 to 0 before
    # the first observed time).
    lo <- if (p > 0) sm$lower[1, k] else NA
    hi <- if (p > 0) sm$upper[1, k] else NA
    add(scope, stratum, code, n, 100 * p, se = 100 * sm$std.err[1, k], lo = 100 * lo,
        hi = 100 * hi)
  }
}

concordance_rows <- function(scored, score, scope, stratum, code, stratified) {
  # Harrell's C with sqrt(concordance()$var) and C +- z se; + strata(center_id) if asked.
  c_index <- se <- NA
  if (nrow(scored) > 1) {
    f <- if (stratified) Surv(os_months, os_event) ~ x + strata(center_id) else
      Surv(os_months, os_event) ~ x
    scored$x <- scored[[score]]
    fit_c <- concordance(f, data = scored, reverse = (score == "tomita"))
    count <- if (is.matrix(fit_c$count)) colSums(fit_c$count) else fit_c$count
    pairs <- sum(count[c("concordant", "discordant", "tied.x")])
    if (pairs > 0) {
      c_index <- fit_c$concordance
      se <- sqrt(fit_c$var)
    }
  }
  add(scope, stratum, code, nrow(scored), c_index, se = se, lo = c_index - z * se,
      hi = c_index + z * se)
}

survival_block <- function(s, scope, stratum, n) {
  fit <- survfit(Surv(os_months, os_event) ~ 1, data = s)
  tab <- summary(fit, rmean = "individual")$table
  add(scope, stratum, "os_median_months", n, tab["median"],
      se = collett_se(fit, tab["median"]), lo = tab["0.95LCL"], hi = tab["0.95UCL"])
  add(scope, stratum, "os_mean_months", n, tab["rmean"], se = tab["se(rmean)"])
  rates <- km_rates(fit, c(6, 12, 24))
  for (i in 1:3) {
    r <- rates[i, ]
    add(scope, stratum, paste0("os_rate_", c(6, 12, 24)[i], "m"), n, r[1], se = r[2], lo = r[3],
        hi = r[4])
  }
  rev <- summary(survfit(Surv(os_months, 1 - os_event) ~ 1, data = s))$table
  add(scope, stratum, "followup_median_months", n, rev["median"],
      lo = rev["0.95LCL"], hi = rev["0.95UCL"])
  r <- km_rates(survfit(Surv(lc_months, lc_event) ~ 1, data = s), 12)[1, ]
  add(scope, stratum, "lc_rate_12m", n, r[1], se = r[2], lo = r[3], hi = r[4])
  horizons_block(s, fit, scope, stratum, n)
  for (score in c("tokuhashi_revised", "tomita")) {
    scored <- s[!is.na(s[[score]]), ]
    code <- if (score == "tomita") "tomita_cindex" else "tokuhashi_cindex"
    concordance_rows(scored, score, scope, stratum, code, FALSE)
    if (scope == "ALL") {
      concordance_rows(scored, score, scope, stratum, paste0(code, "_stratified"), TRUE)
    }
  }
}

describe <- function(s, scope, stratum) {
  n <- nrow(s)
  add(scope, stratum, "patients_n", n, n, n)
  for (sex in c("male", "female")) {
    x <- sum(s$sex == sex)
    add(scope, stratum, paste0(sex, "_n"), n, x, x, n)
  }
  add(scope, stratum, "age_mean_years", n, if (n > 0) mean(s$age_at_surgery_years) else NA)
  add(scope, stratum, "age_sd_years", n, if (n > 1) sd(s$age_at_surgery_years) else NA)
  if (stratum == "all") {
    for (p in procedures) {
      x <- sum(s$procedure == p)
      add(scope, stratum, paste0("procedure_", p, "_n"), n, x, x, n)
    }
  }
  x <- sum(s$anesthetic_risk %in% "high")
  add(scope, stratum, "anesthetic_risk_high_n", n, x, x, sum(!is.na(s$anesthetic_risk)))
  intraop <- s$intraop_death
  x <- sum(intraop)
  add(scope, stratum, "intraop_death_n", n, x, x, n)
  death_days <- as.numeric(s$death_date - s$surgery_date)
  early <- !intraop & s$vital_status == "dead" & !is.na(death_days) & death_days >= 0 &
    death_days <= 30
  add(scope, stratum, "death_30d_postop_n", n, sum(early), sum(early), n)
  proportion(scope, stratum, "mortality_30d_pct", n, sum(intraop | early), n)
  ok <- !intraop & !is.na(s$vas_pain_preop) & !is.na(s$vas_pain_postop) &
    s$vas_pain_preop >= 2
  proportion(scope, stratum, "pain_relief_pct", n,
             sum(ok & s$vas_pain_postop <= s$vas_pain_preop - 2), sum(ok))
  pre <- match(s$frankel_preop, LETTERS[1:5])
  post <- match(s$frankel_postop, LETTERS[1:5])
  both <- !intraop & !is.na(pre) & !is.na(post)
  proportion(scope, stratum, "neuro_improvement_pct", n, sum(both & pre < 5 & post > pre),
             sum(both & pre < 5))
  proportion(scope, stratum, "neuro_worsening_pct", n, sum(both & post < pre), sum(both))
  followed <- s$os_days > 30
  add(scope, stratum, "followed_up_n", n, sum(followed), sum(followed), n)
  add(scope, stratum, "followup_mean_months", n,
      if (any(followed)) mean(s$os_months[followed]) else NA)
  known <- followed & !is.na(s$local_recurrence)
  proportion(scope, stratum, "local_control_pct", n, sum(known & !s$local_recurrence), sum(known))
  observed <- as.numeric(s$last_contact_date - s$surgery_date)
  potential <- ifelse(s$os_event == 1, observed, as.numeric(s$cutoff - s$surgery_date))
  add(scope, stratum, "followup_completeness_pct", n,
      if (sum(potential) > 0) 100 * sum(observed) / sum(potential) else NA,
      sum(observed), sum(potential))
  alive <- s$os_event == 0
  seen <- alive & as.numeric(s$cutoff - s$last_contact_date) <= 365
  proportion(scope, stratum, "alive_seen_12m_pct", n, sum(seen), sum(alive))
  if (n > 0) survival_block(s, scope, stratum, n)
}

scopes <- c(sort(unique(d$center_id)), "ALL")
for (scope in scopes) {
  in_scope <- if (scope == "ALL") d else d[d$center_id == scope, ]
  describe(in_scope, scope, "all")
  for (p in procedures) describe(in_scope[in_scope$procedure == p, ], scope, paste0("procedure=", p))
}

n_all <- nrow(d)
lr <- survdiff(Surv(os_months, os_event) ~ center_id, data = d)
add("ALL", "all", "os_logrank_centers", n_all, lr$chisq, p = lr$pvalue)
lr <- survdiff(Surv(os_months, os_event) ~ procedure + strata(center_id), data = d)
add("ALL", "all", "os_logrank_procedure_stratified", n_all, lr$chisq, p = lr$pvalue)
d$procedure_f <- factor(d$procedure, levels = procedures)
cox_fit <- coxph(Surv(os_months, os_event) ~ procedure_f + strata(center_id), data = d,
                 ties = "efron")
cox <- summary(cox_fit)
zph <- cox.zph(cox_fit, transform = "km")$table["GLOBAL", ]
add("ALL", "all", "os_cox_ph_global_p", n_all, zph["chisq"], p = zph["p"])
for (p in procedures[-1]) {
  term <- paste0("procedure_f", p)
  add("ALL", "all", paste0("os_cox_hr_", p), n_all, cox$conf.int[term, "exp(coef)"],
      se = cox$coefficients[term, "se(coef)"], lo = cox$conf.int[term, "lower .95"],
      hi = cox$conf.int[term, "upper .95"], p = cox$coefficients[term, "Pr(>|z|)"])
}

results <- do.call(rbind, rows)
dersimonian_laird <- function(endpoint) {
  per_center <- results[results$endpoint == endpoint & results$stratum == "all" &
                          results$center_id != "ALL" & results$denominator > 0, ]
  x <- per_center$numerator
  m <- per_center$denominator
  k <- length(x)
  totals <- c(sum(x), sum(m))
  if (k < 2) return(add("ALL", "all", paste0(endpoint, "_re"), n_all))
  fix <- x == 0 | x == m
  x[fix] <- x[fix] + 0.5
  m[fix] <- m[fix] + 1
  y <- log(x / (m - x))
  v <- 1 / x + 1 / (m - x)
  w <- 1 / v
  q <- sum(w * (y - sum(w * y) / sum(w))^2)
  tau2 <- max(0, (q - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))
  ws <- 1 / (v + tau2)
  mu <- sum(ws * y) / sum(ws)
  se <- sqrt(1 / sum(ws))
  add("ALL", "all", paste0(endpoint, "_re"), n_all, 100 * plogis(mu), totals[1], totals[2],
      lo = 100 * plogis(mu - z * se), hi = 100 * plogis(mu + z * se))
}
reml_hartung_knapp <- function(endpoint) {
  # metafor, REML with Hartung-Knapp, and its prediction interval; iterated to 1e-12 (the
  # default 1e-5 stops within 1e-5 of the REML estimate).
  per_center <- results[results$endpoint == endpoint & results$stratum == "all" &
                          results$center_id != "ALL" & results$denominator > 0, ]
  x <- per_center$numerator
  m <- per_center$denominator
  codes <- paste0(endpoint, c("_re_reml", "_pi"))
  if (length(x) < 2) {
    for (code in codes) add("ALL", "all", code, n_all)
    return(invisible())
  }
  fit <- rma(xi = x, ni = m, measure = "PLO", method = "REML", test = "knha", add = 1 / 2,
             to = "only0", control = list(threshold = 1e-12, maxiter = 1000))
  pred <- predict(fit, transf = plogis)
  add("ALL", "all", codes[1], n_all, 100 * pred$pred, sum(x), sum(m), lo = 100 * pred$ci.lb,
      hi = 100 * pred$ci.ub)
  add("ALL", "all", codes[2], n_all, 100 * pred$pred, sum(x), sum(m), lo = 100 * pred$pi.lb,
      hi = 100 * pred$pi.ub)
}
for (e in c("mortality_30d_pct", "pain_relief_pct", "neuro_improvement_pct", "local_control_pct")) {
  dersimonian_laird(e)
  reml_hartung_knapp(e)
}
results <- do.call(rbind, rows)
write.csv(results, args[2], row.names = FALSE, na = "")
