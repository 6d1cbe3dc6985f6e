"""The redaction benchmark (for ``make bench``) runs and reports sensible figures."""

from __future__ import annotations

from lambdalens.redaction import Redactor
from lambdalens.redaction.bench import measure, sample_lines


def test_sample_lines_are_deterministic_and_mostly_harmless() -> None:
    lines = sample_lines(2000, secret_ratio=0.01, seed=3)
    assert lines == sample_lines(2000, secret_ratio=0.01, seed=3)
    redactor = Redactor()
    assert 5 <= sum(redactor.redact_text(line)[0] != line for line in lines) <= 60


def test_measure_reports_rates_with_and_without_redaction() -> None:
    result = measure(sample_lines(400, secret_ratio=0.05, seed=1), rounds=1)
    assert result["lines"] == 400
    assert 0 < result["lines_redacted"] < 400
    assert sum(result["redactions"].values()) >= result["lines_redacted"]
    for key in (
        "text_lines_per_s",
        "text_lines_per_s_disabled",
        "docs_per_s",
        "docs_per_s_full_walk",
        "docs_per_s_disabled",
    ):
        assert result[key] > 0
    assert result["text_lines_per_s_disabled"] > result["text_lines_per_s"]
