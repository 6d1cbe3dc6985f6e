"""Benchmarks behind ``make bench`` / ``lambdalens bench``: a generated realistic workload and
the measurements, always as ratios to a floor measured in the same run."""
