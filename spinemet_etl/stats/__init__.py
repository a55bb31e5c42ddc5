"""Small, tested estimators that agree with R's `survival` package: KM, log-rank, Cox, C, meta."""
