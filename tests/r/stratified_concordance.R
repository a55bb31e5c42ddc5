# The center-stratified Harrell's C that pooling center summaries gives for the pooled scope:
# R `concordance(Surv ~ score + strata(center_id))`, pairs within a center only, for the
# stratum `all` and each procedure. Usage: Rscript stratified_concordance.R PATIENTS.csv OUT.csv
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "")
month <- 30.4375
d$os_months <- as.numeric(as.Date(d$last_contact_date) - as.Date(d$surgery_date)) / month
d$os_event <- as.integer(d$vital_status == "dead")
rows <- list()
for (stratum in c("all", "palliative", "curettage", "en_bloc")) {
  s <- if (stratum == "all") d else d[d$procedure == stratum, ]
  for (score in c("tokuhashi_revised", "tomita")) {
    scored <- s[!is.na(s[[score]]), ]
    c_index <- se <- NA
    if (nrow(scored) > 1) {
      fit <- concordance(Surv(os_months, os_event) ~ scored[[score]] + strata(center_id),
                         data = scored, reverse = (score == "tomita"))
      count <- if (is.matrix(fit$count)) colSums(fit$count) else fit$count
      pairs <- sum(count[c("concordant", "discordant", "tied.x")])
      if (pairs > 0) {
        c_index <- fit$concordance
        se <- sqrt(fit$var)
      }
    }
    rows[[length(rows) + 1]] <- data.frame(
      stratum = if (stratum == "all") "all" else paste0("procedure=", stratum),
      endpoint = if (score == "tomita") "tomita_cindex_stratified" else
        "tokuhashi_cindex_stratified",
      estimate = c_index, se = se)
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE, na = "")
