"""The link_file bench stage's own arithmetic (issue 18 item 3): the generator's truth, precision against it,
and the speed-up verdict against the naive matcher."""

from __future__ import annotations

import random
from pathlib import Path

from bench import link_bench
from bench.run import GIB, Measure, link_precision, verdict


def test_the_truth_comes_with_the_same_records_as_make_records() -> None:
    operators = link_bench.make_operators(200, random.Random(1))
    plain = link_bench.make_records(operators, 500, random.Random(2))
    records, truth = link_bench.make_records_with_truth(operators, 500, random.Random(2))
    assert records.equals(plain)
    about = [(name, true) for name, true in zip(records["name"], truth, strict=True) if true]
    assert 0.15 < len(about) / len(truth) < 0.30  # ~22 % of the records are generated from an operator
    names = dict(zip(operators["operator_id"], operators["name"], strict=True))
    exact = sum(1 for name, true in about if name == names[true])
    assert exact > len(about) / 4  # the exact-name draw (10 of 22 %) names its own operator


def test_precision_counts_linked_rows_with_the_true_operator(tmp_path: Path) -> None:
    links, truth = tmp_path / "links.csv", tmp_path / "truth.csv"
    links.write_text("record_id,operator_id,status,method,score\nr1,op1,linked,uscc,1\nr2,op9,linked,fuzzy,0.9\n"
                     "r3,op3,linked,name_exact,1\nr4,op4,review,fuzzy,0.7\nr5,,none,,\n", "utf-8")
    truth.write_text("record_id,operator_id\nr1,op1\nr2,op2\nr3,op3\nr4,op4\nr5,op5\nr6,\n", "utf-8")
    figures = link_precision(links, truth)
    assert figures["precision"] == round(2 / 3, 4)
    assert figures["recall"] == round(2 / 5, 4)  # r1..r5 are about an operator; two linked to it
    assert (figures["linked"], figures["linked_right"], figures["review"]) == (3, 2, 1)


def test_the_speedup_verdict_reads_the_naive_projection() -> None:
    measure = Measure("link_file", 1_000_000, "records", seconds=[10.0, 12.0, 11.0], peak_rss=[GIB])
    measure.extra["naive_projected_s"] = 4_000.0
    assert verdict(measure, None)[1].startswith("no (364×")  # 4000 / 11 s median
    measure.extra["naive_projected_s"] = 4_500.0
    assert verdict(measure, None)[1].startswith("yes (409×")
    measure.peak_rss = [5 * GIB]
    assert verdict(measure, None)[1].startswith("no (409×")
    del measure.extra["naive_projected_s"]
    assert verdict(measure, None)[1].startswith("n/a")


def test_the_transform_is_judged_on_its_marts_seconds() -> None:
    """'all marts ≤ 60 s on 10M': the median of the marts' seconds in each run, not the whole build's."""
    measure = Measure("transform", 10_000_000, "records", seconds=[700.0, 800.0, 900.0], peak_rss=[GIB] * 3,
                      figures={"marts_seconds": [50.0, 70.0, 55.0]})
    assert verdict(measure, None)[1] == "yes (55.0 s marts_seconds)"
    measure.figures["marts_seconds"] = [61.0, 70.0, 55.0]
    assert verdict(measure, None)[1] == "no (61.0 s marts_seconds), 1 s over"
    small = Measure("transform", 1_000_000, "records", seconds=[70.0], peak_rss=[GIB], figures={"marts_seconds": [7.0]})
    assert verdict(small, None)[1].startswith("unlikely (linear projection 70 s marts_seconds)")
