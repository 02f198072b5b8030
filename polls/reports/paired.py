"""Paired tests for pre/post questions, from scipy.stats (the outcomes report, issue 15).

Two outcomes (chose the preferred answer or not): McNemar's exact test, i.e. a two-sided binomial
test of the discordant pairs (b changed away from the preferred answer, c changed to it) against
one half, as statsmodels' `mcnemar(exact=True)` computes it; its statistic is min(b, c). The
effect size is the change in the matched share (c - b) / n and the discordant odds ratio c / b.

Ratings (a scale's points, a confidence of 1-5): Wilcoxon's signed-rank test on after - before
(scipy.stats.wilcoxon, zero differences dropped as Wilcoxon proposed); the effect size is the
matched-pairs rank-biserial correlation (W+ - W-) / (W+ + W-).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext
from scipy import stats


@dataclass(frozen=True)
class McNemar:
    n: int  # matched participants
    before: int  # of them, chose the preferred answer before
    after: int
    b: int  # preferred before, not after
    c: int  # not before, preferred after
    statistic: int | None  # min(b, c); None without discordant pairs
    p_value: float | None

    @property
    def change_points(self) -> float:
        return round(100 * (self.c - self.b) / self.n, 1) if self.n else 0.0

    @property
    def odds_ratio(self) -> float | None:
        return round(self.c / self.b, 2) if self.b else None


def mcnemar_exact(pairs: list[tuple[bool, bool]]) -> McNemar:
    """(preferred before, preferred after) per matched participant."""
    b = sum(1 for before, after in pairs if before and not after)
    c = sum(1 for before, after in pairs if after and not before)
    statistic = p_value = None
    if b + c:
        statistic = min(b, c)
        p_value = float(stats.binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)
    return McNemar(
        n=len(pairs),
        before=sum(1 for before, _ in pairs if before),
        after=sum(1 for _, after in pairs if after),
        b=b,
        c=c,
        statistic=statistic,
        p_value=p_value,
    )


@dataclass(frozen=True)
class Wilcoxon:
    n: int  # matched participants
    mean_before: float
    mean_after: float
    nonzero: int  # pairs whose rating changed (the test's own n)
    statistic: float | None  # min(W+, W-), scipy's two-sided statistic
    p_value: float | None
    rank_biserial: float | None


def wilcoxon_signed_rank(pairs: list[tuple[float, float]]) -> Wilcoxon:
    """(rating before, rating after) per matched participant."""
    n = len(pairs)
    differences = [after - before for before, after in pairs]
    nonzero = [d for d in differences if d != 0]
    statistic = p_value = rank_biserial = None
    if nonzero:
        result = stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
        ranks = stats.rankdata([abs(d) for d in nonzero])
        w_plus = sum(r for r, d in zip(ranks, nonzero, strict=True) if d > 0)
        w_minus = sum(r for r, d in zip(ranks, nonzero, strict=True) if d < 0)
        rank_biserial = round(float((w_plus - w_minus) / (w_plus + w_minus)), 2)
    return Wilcoxon(
        n=n,
        mean_before=round(sum(b for b, _ in pairs) / n, 2) if n else 0.0,
        mean_after=round(sum(a for _, a in pairs) / n, 2) if n else 0.0,
        nonzero=len(nonzero),
        statistic=statistic,
        p_value=p_value,
        rank_biserial=rank_biserial,
    )


def p_text(p: float | None) -> str:
    """A p-value as the report prints it: three decimals, or "< 0.001" (with the reader's decimal sign)."""
    if p is None:
        return gettext("not computable")
    if p < 0.001:
        return "< " + formats.number_format(0.001, 3, use_l10n=True)
    # Rounded as before (f"{p:.3f}"), then written with the reader's decimal sign.
    return "= " + formats.number_format(float(f"{p:.3f}"), 3, use_l10n=True)
