"""Reference values for the policy-impact estimators (test/policy-impact-reference.test.ts).

Writes a fixed, seeded panel (panel.csv: business x channel x week, numerator and denominator of a rate) and the
estimates that established implementations give on it (reference.json): pyfixest for difference in differences,
the event study and two-way fixed effects, statsmodels for the interrupted time series with Newey-West errors,
`differences` (Callaway and Sant'Anna) for the staggered design. How to run: README.md beside this file.

Every unit (business, channel) has the same denominator in every week, so the weighted regressions (weights =
denominator) and our ratio-of-sums estimators estimate exactly the same quantities and must agree to rounding.
"""

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import statsmodels.api as sm
from differences import ATTgt

HERE = Path(__file__).resolve().parent
SEED = 20240601
BUSINESSES = 40
CHANNELS = ["messenger", "instagram", "whatsapp"]
WEEKS = 40
# Boundary week per channel: whatsapp first, messenger later, instagram never (in this panel).
COHORT = {"whatsapp": 16, "messenger": 26, "instagram": None}
# The two-group designs (DiD, event study, ITS) look at the whatsapp boundary with 8 weeks either side.
BOUNDARY, LEADS, LAGS = 16, 8, 8


def effect(channel: str, week: int) -> float:
    g = COHORT[channel]
    if g is None or week < g:
        return 0.0
    # A step that keeps growing: the case where two-way fixed effects are biased under staggered adoption.
    return 0.03 + 0.004 * (week - g)


def make_panel() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    week_shock = rng.normal(0, 0.01, WEEKS)
    channel_level = {"messenger": 0.0, "instagram": 0.02, "whatsapp": -0.02}
    rows = []
    for b in range(BUSINESSES):
        for c in CHANNELS:
            den = int(rng.integers(40, 160))
            base = rng.uniform(0.15, 0.3)
            for w in range(WEEKS):
                p = base + channel_level[c] + week_shock[w] + 0.0005 * w + effect(c, w)
                rows.append({"business_id": f"b{b:02d}", "channel": c, "week": w, "numerator": int(rng.binomial(den, p)), "denominator": den})
    return pd.DataFrame(rows)


def rel_number(name: str) -> int:
    # pyfixest names i(rel, treat, ref=-1) terms like "rel::-8:treat"
    return int(re.fullmatch(r"rel::(-?\d+)(?:\.0)?:treat", str(name)).group(1))


def rounded(x):
    """12 significant digits: pyfixest's iterative demeaning differs from run to run in the last bits, and the
    comparison's tolerance (1e-9) is far coarser, so the file is the same on every run."""
    if isinstance(x, float):
        return float(f"{x:.12g}")
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def main() -> None:
    panel = make_panel()
    panel.to_csv(HERE / "panel.csv", index=False)

    df = panel.copy()
    df["y"] = df.numerator / df.denominator
    df["unit"] = df.business_id + "|" + df.channel
    out: dict = {"seed": SEED, "boundary": BOUNDARY, "leads": LEADS, "lags": LAGS, "cohorts": COHORT}

    # Difference in differences and event study: whatsapp (treated) against instagram, weeks 8..23.
    two = df[df.channel.isin(["whatsapp", "instagram"]) & (df.week >= BOUNDARY - LEADS) & (df.week < BOUNDARY + LAGS)].copy()
    two["treat"] = (two.channel == "whatsapp").astype(int)
    two["post"] = (two.week >= BOUNDARY).astype(int)
    two["treat_post"] = two.treat * two.post
    two["rel"] = two.week - BOUNDARY
    did = pf.feols("y ~ treat_post | unit + week", data=two, weights="denominator", vcov={"CRV1": "business_id"})
    out["did"] = {"estimate": float(did.coef()["treat_post"]), "se_crv1_business": float(did.se()["treat_post"])}
    es = pf.feols("y ~ i(rel, treat, ref=-1) | unit + week", data=two, weights="denominator", vcov={"CRV1": "business_id"})
    effects = {rel_number(k): float(v) for k, v in es.coef().items()}
    ses = {rel_number(k): float(v) for k, v in es.se().items()}
    out["event_study"] = [{"relative_week": k, "estimate": effects[k], "se_crv1_business": ses[k]} for k in sorted(effects)]

    # Interrupted time series: the whatsapp weekly ratio of sums, segmented regression, Newey-West errors.
    wa = df[(df.channel == "whatsapp") & (df.week >= BOUNDARY - LEADS) & (df.week < BOUNDARY + LAGS)]
    series = wa.groupby("week")[["numerator", "denominator"]].sum()
    k = series.index.to_numpy() - BOUNDARY
    d = (k >= 0).astype(float)
    x = np.column_stack([np.ones_like(k, dtype=float), k, d, d * k])
    y = (series.numerator / series.denominator).to_numpy()
    lags = math.floor(4 * (len(y) / 100) ** (2 / 9))
    its = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    out["its"] = {"lags": lags, "coef": [float(v) for v in its.params], "se": [float(v) for v in its.bse]}

    # Staggered adoption: Callaway and Sant'Anna on every week, with both control groups; and plain TWFE.
    cs_data = df.copy()
    cs_data["cohort"] = cs_data.channel.map(lambda c: COHORT[c] if COHORT[c] is not None else np.nan)
    cs_data = cs_data.set_index(["unit", "week"])
    out["staggered"] = {}
    for control in ["not_yet_treated", "never_treated"]:
        att = ATTgt(data=cs_data, cohort_column="cohort", base_period="varying")
        att.fit(formula="y", weights_column="denominator", control_group=control, progress_bar=False)
        cells = []
        for (cohort, base, time), row in att.results().iterrows():
            cells.append({"group": int(cohort), "base": int(base), "week": int(time), "att": float(row[("ATTgtElements", "", "ATT")])})
        simple = att.aggregate("simple")
        event = att.aggregate("event")
        out["staggered"][control] = {
            "cells": cells,
            "simple": float(simple.iloc[0][("SimpleAggregation", "", "ATT")]),
            "event": [{"relative_week": int(i), "att": float(r[("EventAggregation", "", "ATT")])} for i, r in event.iterrows()],
        }
    full = df.copy()
    full["d"] = [int(COHORT[c] is not None and w >= COHORT[c]) for c, w in zip(full.channel, full.week)]
    twfe = pf.feols("y ~ d | unit + week", data=full, weights="denominator")
    out["twfe"] = float(twfe.coef()["d"])

    (HERE / "reference.json").write_text(json.dumps(rounded(out), indent=1) + "\n")
    print(json.dumps({"did": out["did"], "its": out["its"], "twfe": out["twfe"], "simple": {k: v["simple"] for k, v in out["staggered"].items()}}, indent=1))


if __name__ == "__main__":
    main()
