"""Removal rules applied by the DuckDB engine: one worked example per rule, regime switches, bars, and one
test per definite error of issue 12, named after it, with the reference's worked example.

Expected dates are worked out by hand from the article, counted as 民法典 Arts 200–204 count: the start
day is not counted, a period ends at 24:00 of the corresponding day (clamped to the month's end), so the
record is shown through `display_until` and first not shown the day after (`auto_removal_on`). Never by
calling the engine.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import yaml

from transforms.removal import CASE_COLUMNS, STATUSES, RuleFileError, evaluate_cases, load_rules
from transforms.removal.engine import OPTIONAL_CASE_COLUMNS, RESULT_COLUMNS, RULES_PATH, load_low_fine_thresholds

ALL_COLUMNS = (*CASE_COLUMNS, *OPTIONAL_CASE_COLUMNS)


def run(as_of: date, **case: Any) -> dict[str, Any]:
    """Evaluate one case given as text cells (the shape a CSV or a staging view gives)."""
    row = {c: None for c in ALL_COLUMNS} | {"record_id": "r1"}
    row |= {k: None if v is None else str(v) for k, v in case.items()}
    con = duckdb.connect()
    con.register("cases", pa.Table.from_pylist([row], schema=pa.schema([(c, pa.string()) for c in ALL_COLUMNS])))
    rel = evaluate_cases(con, "cases", as_of)
    (values,) = rel.fetchall()
    out = dict(zip(rel.columns, values, strict=True))
    con.close()
    return out


def d(text: str) -> date:
    return date.fromisoformat(text)


def assert_result(out: dict[str, Any], status: str, early: str | None, auto: str | None, rule_id: str,
                  until: str | None = "") -> None:
    """`auto` is the first day not shown; `until` the last day shown (default: the day before `auto`)."""
    assert out["error"] is None, out["error"]
    assert (out["status"], out["rule_id"]) == (status, rule_id)
    assert out["early_removal_from"] == (d(early) if early else None)
    assert out["auto_removal_on"] == (d(auto) if auto else None)
    if until == "":
        until = (date.fromordinal(d(auto).toordinal() - 1)).isoformat() if auto else None
    assert out["display_until"] == (d(until) if until else None)


# ----------------------------------------------------------------- issue 12, definite errors (one test each)


def test_counting_days_publication_2023_11_23_plus_3_years_is_shown_through_2026_11_23() -> None:
    # removal-rules.md, corrections 3: published 2023-11-23, 3 years → shown through 2026-11-23 (公示截止期),
    # first not shown 2026-11-24 (45号令: from publication).
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="500000",
                domain="general", decision_date="2023-11-20", publish_date="2023-11-23", province="湖北")
    out = run(d("2026-11-23"), **case)
    assert_result(out, "conditions_unmet", None, "2026-11-24", "gsxt_penalty", until="2026-11-23")
    assert_result(run(d("2026-11-24"), **case), "expired", None, "2026-11-24", "gsxt_penalty", until="2026-11-23")


def test_counting_days_six_months_from_2026_05_23_can_be_applied_for_from_2026_11_24() -> None:
    # corrections 3: "公示满六个月" from 2026-05-23 is complete at the end of 2026-11-23 (tax rule: 6 months
    # from publication).
    case = dict(platform="tax", record_type="tax_major_violation", publish_date="2026-05-23",
                obligations_done_date="2026-06-01")
    assert_result(run(d("2026-11-23"), **case), "waiting", "2026-11-24", "2029-05-24", "tax_major_violation_54")
    assert_result(run(d("2026-11-24"), **case), "eligible", "2026-11-24", "2029-05-24", "tax_major_violation_54")


def test_counting_days_conditions_met_after_the_minimum_set_the_application_day() -> None:
    # early_removal_from is the later of (minimum complete + 1 day) and the day the conditions were met.
    case = dict(platform="tax", record_type="tax_major_violation", publish_date="2026-05-23",
                obligations_done_date="2026-12-05")
    assert_result(run(d("2026-12-05"), **case), "eligible", "2026-12-05", "2029-05-24", "tax_major_violation_54")


def test_counting_days_2024_02_29_plus_12_months_ends_2025_02_28() -> None:
    # corrections 3, Art 202 month-end clamping: 2024-02-29 + 12 months → 2025-02-28 (bad list: 1 year).
    case = dict(platform="miit", record_type="telecom_bad_list", penalty_kinds="administrative_penalty",
                listed_date="2024-02-29")
    assert_result(run(d("2025-02-28"), **case), "barred", None, "2025-03-01", "miit_bad_list_penalty",
                  until="2025-02-28")
    assert run(d("2025-03-01"), **case)["status"] == "expired"


def test_telecom_bad_list_after_a_penalty_ends_one_year_after_listing() -> None:
    # corrections 1 (工信部信管〔2018〕54号 via the blue book): removed when no new penalty within a year.
    case = dict(platform="miit", record_type="telecom_bad_list", penalty_kinds="administrative_penalty",
                listed_date="2025-11-20")
    out = run(d("2026-06-01"), **case)
    assert_result(out, "barred", None, "2026-11-21", "miit_bad_list_penalty", until="2026-11-20")
    assert out["confidence"] == "confirmed" and "工信部信管〔2018〕54号" in out["basis"]
    assert "no new administrative penalty on record" in out["reason"]
    assert run(d("2026-11-21"), **case)["status"] == "expired"


def test_telecom_bad_list_kept_by_a_new_penalty_within_the_year_names_it() -> None:
    case = dict(platform="miit", record_type="telecom_bad_list", penalty_kinds="administrative_penalty",
                listed_date="2025-11-20", new_penalty_date="2026-11-20", new_penalty_reference="京通管罚〔2026〕7号")
    out = run(d("2026-11-23"), **case)
    # Decided on the last day of the year: still within it, so the entry stays listed with no known end.
    assert_result(out, "barred", None, None, "miit_bad_list_penalty", until=None)
    assert "京通管罚〔2026〕7号" in out["reason"] and "2026-11-20" in out["reason"]
    assert out["confidence"] == "unconfirmed"
    # A penalty the day after the year, or not yet decided at the as-of date, does not keep it.
    later = run(d("2026-11-23"), **(case | {"new_penalty_date": "2026-11-21"}))
    assert later["status"] == "expired" and later["auto_removal_on"] == d("2026-11-21")
    not_yet = run(d("2026-06-01"), **(case | {"new_penalty_date": "2026-08-01"}))
    assert not_yet["auto_removal_on"] == d("2026-11-21")
    # A penalty decided before (or on) the listing day is what caused the listing, not a new one.
    before = run(d("2026-06-01"), **(case | {"new_penalty_date": "2025-11-20"}))
    assert before["auto_removal_on"] == d("2026-11-21")


def test_telecom_bad_list_without_its_ground_is_unknown() -> None:
    out = run(d("2026-06-01"), platform="miit", record_type="telecom_bad_list", listed_date="2025-11-20")
    assert out["status"] == "unknown" and out["error"] is None
    assert out["reason"].startswith("unknown: needs penalty_kinds")


def test_gsxt_penalties_decided_from_2025_12_25_follow_samr_2025_rules() -> None:
    # corrections 2: 一般 3 months / 1 year; decided the day before: 45号令 (3 years from publication).
    base = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="200000",
                domain="general", severity="general", publish_date="2025-12-30", province="湖北",
                obligations_done_date="2026-01-10", corrected_date="2026-01-10")
    before = run(d("2026-04-01"), **base, decision_date="2025-12-24")
    assert_result(before, "waiting", "2026-07-01", "2028-12-31", "gsxt_penalty")
    on = run(d("2026-04-01"), **base, decision_date="2025-12-25")
    # 2025-12-25 + 3 months complete at the end of 2026-03-25; + 1 year at the end of 2026-12-25.
    assert_result(on, "eligible", "2026-03-26", "2026-12-26", "gsxt_penalty_2025_general")
    assert on["confidence"] == "confirmed"


@pytest.mark.parametrize(("severity", "kinds", "rule_id", "early", "auto"), [
    # 轻微: shown at most 3 months, repair once liability is discharged (国办发〔2025〕22号 reading).
    ("minor", "warning", "gsxt_penalty_2025_minor", "2026-01-20", "2026-04-11"),
    # 严重: 1 year / 3 years (国办发〔2025〕22号 reading).
    ("serious", "licence_revocation", "gsxt_penalty_2025_serious", None, "2029-01-11"),
])
def test_gsxt_2025_minor_and_serious_periods_are_unconfirmed(severity: str, kinds: str, rule_id: str,
                                                            early: str | None, auto: str) -> None:
    out = run(d("2026-02-01"), platform="gsxt", record_type="penalty", penalty_kinds=kinds, severity=severity,
              decision_date="2026-01-10", publish_date="2026-01-12", obligations_done_date="2026-01-20",
              corrected_date="2026-01-20")
    assert_result(out, "eligible" if early else "waiting", early or "2027-01-11", auto, rule_id)
    assert out["confidence"] == "unconfirmed"


def test_gsxt_2025_rules_need_severity() -> None:
    out = run(d("2026-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="5000",
              decision_date="2026-01-10", publish_date="2026-01-12")
    assert out["status"] == "unknown" and "needs severity" in out["reason"]


def test_samr_handling_times_are_data() -> None:
    rules = {r.rule_id: r for r in load_rules()}
    assert rules["gsxt_penalty_2025_general"].handling.working_days == 7
    assert rules["gsxt_penalty"].handling.working_days == 15
    assert rules["gsxt_penalty"].handling.confidence == "unconfirmed"


def test_restriction_term_stretches_only_restrictions() -> None:
    # 45号令 Art 13(3): a 5-year 限制从业 is shown 5 years (2022-05-10 + 60 months) …
    base = dict(platform="gsxt", record_type="penalty", domain="general", decision_date="2022-05-01",
                publish_date="2022-05-10", term_years="5")
    out = run(d("2025-06-01"), **base, penalty_kinds="employment_restriction")
    assert_result(out, "barred", None, "2027-05-11", "gsxt_penalty")
    out = run(d("2025-06-01"), **base, penalty_kinds="production_restriction|fine", fine_amount_yuan="500000")
    assert_result(out, "barred", None, "2027-05-11", "gsxt_penalty")
    # … a 降低资质等级 or a fine that happens to carry a term is not: 3 years (2025-05-10).
    out = run(d("2024-06-01"), **base, penalty_kinds="qualification_downgrade")
    assert_result(out, "barred", None, "2025-05-11", "gsxt_penalty")
    out = run(d("2024-06-01"), **base, penalty_kinds="fine", fine_amount_yuan="500000")
    assert_result(out, "conditions_unmet", None, "2025-05-11", "gsxt_penalty")
    # A restriction shorter than 3 years does not shorten the display.
    out = run(d("2024-06-01"), **(base | {"term_years": "1"}), penalty_kinds="employment_restriction")
    assert out["auto_removal_on"] == d("2025-05-11")


def test_missing_facts_are_not_no_an_exclusion_on_an_empty_domain_is_unknown() -> None:
    # 527号 serious: revocation in food/drug/safety domains is never repairable. Without a domain the
    # exclusion can be neither applied nor skipped.
    case = dict(platform="creditchina", record_type="penalty", penalty_kinds="licence_revocation",
                severity="serious", decision_date="2021-03-01", obligations_done_date="2021-04-01",
                corrected_date="2021-04-01")
    out = run(d("2022-01-01"), **case)
    assert out["error"] is None and out["status"] == "unknown"
    assert out["reason"].startswith("unknown: needs domain")
    assert out["early_removal_from"] is None
    # The automatic stop does not depend on it: shown through 2024-03-01.
    assert out["auto_removal_on"] == d("2024-03-02") and out["rule_id"] == "cc_penalty_527_serious"
    # Once past the automatic stop the exclusion no longer matters.
    assert run(d("2024-03-02"), **case)["status"] == "expired"
    # With a domain outside the list: the early path is open; inside it: barred.
    assert run(d("2022-01-01"), **case, domain="general")["status"] == "eligible"
    assert run(d("2022-01-01"), **case, domain="food")["status"] == "barred"


def test_missing_facts_are_not_no_an_exclusion_on_empty_penalty_kinds_is_unknown() -> None:
    out = run(d("2022-01-01"), platform="creditchina", record_type="penalty", severity="serious", domain="food",
              decision_date="2021-03-01", obligations_done_date="2021-04-01", corrected_date="2021-04-01")
    assert out["status"] == "unknown" and out["reason"].startswith("unknown: needs penalty_kinds")


def test_missing_facts_are_not_no_a_rule_choice_on_an_empty_field_is_unknown() -> None:
    out = run(d("2026-06-01"), platform="creditchina", record_type="penalty", penalty_kinds="fine",
              decision_date="2026-05-01")
    assert out["error"] is None and out["status"] == "unknown" and out["rule_id"] is None
    assert out["reason"].startswith("unknown: needs severity (to decide on cc_penalty_36_general")
    out = run(d("2026-06-01"), platform="creditchina", record_type="penalty", penalty_kinds="fine",
              severity="general", publish_date="2026-05-01")
    assert out["status"] == "unknown" and out["reason"].startswith("unknown: needs decision_date")


def test_escalation_on_abnormal_listing_after_three_uncorrected_years() -> None:
    # Listed 2023-07-01: 满三年 at the end of 2026-07-01 → the serious list from 2026-07-02.
    case = dict(platform="gsxt", record_type="abnormal_operation", listed_date="2023-07-01",
                penalty_kinds="annual_report_missing")
    out = run(d("2024-03-01"), **case)
    assert_result(out, "conditions_unmet", None, None, "gsxt_abnormal_operation")
    assert out["escalation_on"] == d("2026-07-02")
    # Corrected: removal may be applied for from the correction day, and the escalation is off.
    out = run(d("2024-03-01"), **case, corrected_date="2024-02-01")
    assert_result(out, "eligible", "2024-02-01", None, "gsxt_abnormal_operation")
    assert out["escalation_on"] is None
    # Corrected on the last day of the three years still counts; the day after does not undo it.
    assert run(d("2026-08-01"), **case, corrected_date="2026-07-01")["escalation_on"] is None
    assert run(d("2026-08-01"), **case, corrected_date="2026-07-02")["escalation_on"] == d("2026-07-02")


def test_abnormal_escalation_is_month_end_clamped() -> None:
    out = run(d("2024-03-01"), platform="gsxt", record_type="abnormal_operation", listed_date="2024-02-29")
    assert out["escalation_on"] == d("2027-03-01")  # 3 years complete at the end of 2027-02-28


# ----------------------------------------------------------------- issue 12, doubtful choices


def test_58_record_shows_what_36_would_give() -> None:
    # Decided 2025-06-01 under 58号令 (3 months / 3 years); 36号令 一般 would stop after 1 year.
    case = dict(platform="creditchina", record_type="penalty", penalty_kinds="fine", domain="general",
                severity="general", decision_date="2025-06-01", obligations_done_date="2025-06-10",
                corrected_date="2025-06-10")
    out = run(d("2026-11-23"), **case)
    assert_result(out, "eligible", "2025-09-02", "2028-06-02", "cc_penalty_58")
    assert out["confidence"] == "unconfirmed" and "从旧兼从轻" in out["basis"]
    assert out["alt_rule_id"] == "cc_penalty_36_general"
    assert (out["alt_early_removal_from"], out["alt_auto_removal_on"]) == (None, d("2026-06-02"))  # expired there
    serious = run(d("2025-08-01"), **(case | {"severity": "serious"}))
    assert serious["alt_rule_id"] == "cc_penalty_36_serious"
    assert (serious["alt_early_removal_from"], serious["alt_auto_removal_on"]) == (d("2026-06-02"), d("2028-06-02"))
    # A 36号令 record has no alternative.
    assert run(d("2026-11-23"), **(case | {"decision_date": "2026-04-01"}))["alt_rule_id"] is None


def test_58_alternative_that_needs_severity_says_so() -> None:
    out = run(d("2026-11-23"), platform="creditchina", record_type="penalty", penalty_kinds="fine", domain="general",
              decision_date="2025-06-01")
    assert out["status"] == "conditions_unmet" and out["alt_rule_id"] is None
    assert "36号令 alternative: unknown: needs severity" in out["reason"]


@pytest.mark.parametrize(("case", "message"), [
    (dict(platform="court", record_type="court_dishonest", listed_date="2023-06-15", term_years="1"),
     "term_years 1 is outside the 2–5 years rule court_dishonest_2017_term allows"),
    (dict(platform="court", record_type="court_dishonest", listed_date="2023-06-15", term_years="6"),
     "term_years 6 is outside the 2–5 years"),
    (dict(platform="creditchina", record_type="penalty", penalty_kinds="fine", severity="general",
          decision_date="2026-12-01"), "decision_date 2026-12-01 is after the as-of date 2026-11-23"),
    (dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="10",
          decision_date="2024-02-01", publish_date="2024-01-20"),
     "publish_date 2024-01-20 is before decision_date 2024-02-01"),
    (dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="1e400",
          decision_date="2024-01-01", publish_date="2024-01-20"), "fine_amount_yuan is not an amount in yuan: 1e400"),
])
def test_nonsense_values_are_errors_naming_them(case: dict[str, str], message: str) -> None:
    out = run(d("2026-11-23"), **case)
    assert out["status"] is None and message in out["error"]


def test_court_deletion_deadline_counts_official_working_days() -> None:
    # Term ends Fri 2024-09-27; Sun 09-29 was an adjusted working day, 10-01…07 the National Day holiday:
    # the 3 working days are 09-29, 09-30, 10-08.
    out = run(d("2024-01-01"), platform="court", record_type="court_dishonest", listed_date="2022-09-27",
              term_years="2")
    assert_result(out, "conditions_unmet", None, "2024-09-28", "court_dishonest_2017_term")
    assert out["removal_deadline"] == d("2024-10-08")


def test_court_deletion_deadline_names_the_missing_calendar_year() -> None:
    out = run(d("2025-01-01"), platform="court", record_type="court_dishonest", listed_date="2024-06-14",
              term_years="3")
    assert out["auto_removal_on"] == d("2027-06-15") and out["removal_deadline"] is None
    assert "calendar for 2027 is not available" in out["reason"]


def test_the_engines_calendar_is_the_official_one() -> None:
    # The working-day table the SQL counts on agrees with transforms.workdays day by day (2024: adjusted
    # working Sundays 02-04 and 09-29, the National Day week off).
    from transforms.removal.engine import calendar_table
    from transforms.workdays import is_working_day

    table = calendar_table().to_pydict()
    days = {day: flag for day, flag in zip(table["day"], table["is_working"], strict=True) if day.year == 2024}
    assert len(days) == 366 and all(days[day] == is_working_day(day) for day in days)
    assert days[d("2024-09-29")] and not days[d("2024-10-07")]


def test_assumed_fields_are_said_where_they_choose_the_rule() -> None:
    base = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="200000",
                domain="general", severity="general", publish_date="2025-01-10", decision_date="2025-01-05",
                province="湖北", assumed_fields="domain|severity")
    out = run(d("2025-02-01"), **base)
    # Before 2025-12-25 the domain chooses between 6 and 12 months; severity plays no part.
    assert out["reason"] == "assumed: domain=general (not published by the registry; our default reading)"
    later = run(d("2026-02-01"), **(base | {"decision_date": "2026-01-05", "publish_date": "2026-01-10"}))
    assert later["reason"] == "assumed: severity=general (not published by the registry; our default reading)"


# ----------------------------------------------------------------- gsxt, 总局令第45号 + 国市监信规〔2021〕3号


def test_gsxt_warning_only_is_never_published() -> None:
    # 45号令 Art 2: a warning alone is not shown.
    out = run(d("2024-01-01"), platform="gsxt", record_type="penalty", penalty_kinds="warning",
              decision_date="2023-03-01")
    assert_result(out, "not_published", None, None, "gsxt_penalty_warning_only")
    assert out["confidence"] == "confirmed"


def test_gsxt_ordinary_penalty_six_months_then_three_years() -> None:
    # Published 2023-06-30: 6 months complete at the end of 2023-12-30; 3 years at the end of 2026-06-30.
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine|confiscation", fine_amount_yuan="200000",
                domain="general", decision_date="2023-06-20", publish_date="2023-06-30",
                obligations_done_date="2023-07-15", corrected_date="2023-07-20", province="湖北省")
    assert_result(run(d("2023-12-30"), **case), "waiting", "2023-12-31", "2026-07-01", "gsxt_penalty")
    assert_result(run(d("2023-12-31"), **case), "eligible", "2023-12-31", "2026-07-01", "gsxt_penalty")
    assert_result(run(d("2026-06-30"), **case), "eligible", "2023-12-31", "2026-07-01", "gsxt_penalty")
    assert_result(run(d("2026-07-01"), **case), "expired", None, "2026-07-01", "gsxt_penalty")


def test_gsxt_conditions_must_both_be_recorded_by_the_as_of_date() -> None:
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="500000",
                domain="general", decision_date="2023-01-05", publish_date="2023-01-10",
                obligations_done_date="2023-02-01")
    # Corrected date missing: Art 14 needs both, so no early date yet.
    assert_result(run(d("2024-01-01"), **case), "conditions_unmet", None, "2026-01-11", "gsxt_penalty")
    # A correction dated after the as-of date does not count yet.
    later = case | {"corrected_date": "2024-03-01"}
    assert_result(run(d("2024-01-01"), **later), "conditions_unmet", None, "2026-01-11", "gsxt_penalty")
    # Once recorded: the later of (the day after 6 months, 2023-07-11) and the condition dates.
    assert_result(run(d("2024-03-01"), **later), "eligible", "2024-03-01", "2026-01-11", "gsxt_penalty")


@pytest.mark.parametrize(
    "kind",
    ["suspension_of_business", "production_restriction", "employment_restriction", "qualification_downgrade",
     "licence_revocation", "business_licence_revocation"],
)
def test_gsxt_severe_penalties_have_no_early_path(kind: str) -> None:
    # 45号令 Art 14: shown the full 3 years (through 2025-05-10) even with everything performed.
    out = run(d("2023-06-01"), platform="gsxt", record_type="penalty", penalty_kinds=f"fine|{kind}",
              fine_amount_yuan="50000", domain="general", decision_date="2022-05-01", publish_date="2022-05-10",
              obligations_done_date="2022-06-01", corrected_date="2022-06-01", province="湖北")
    assert_result(out, "barred", None, "2025-05-11", "gsxt_penalty")
    assert "第十四条" in out["basis"]


def test_gsxt_licence_suspension_is_not_in_the_art14_list() -> None:
    # 暂扣许可证件 is not named in Art 14, so the ordinary 6-month path applies (apply from 2022-11-11).
    out = run(d("2023-06-01"), platform="gsxt", record_type="penalty", penalty_kinds="licence_suspension",
              domain="general", decision_date="2022-05-01", publish_date="2022-05-10",
              obligations_done_date="2022-06-01", corrected_date="2022-06-01")
    assert_result(out, "eligible", "2022-11-11", "2025-05-11", "gsxt_penalty")


def test_gsxt_low_fine_stops_after_three_months_with_month_end_clamping() -> None:
    # 45号令 Art 13: 较低数额罚款 → 3 months from publication; 2024-11-30 + 3 months = 2025-02-28.
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="99999.99",
                domain="general", decision_date="2024-11-25", publish_date="2024-11-30", province="湖北省")
    out = run(d("2025-01-15"), **case)
    assert_result(out, "barred", None, "2025-03-01", "gsxt_penalty_low", until="2025-02-28")
    assert out["confidence"] == "confirmed"
    assert run(d("2025-02-28"), **case)["status"] == "barred"
    assert_result(run(d("2025-03-01"), **case), "expired", None, "2025-03-01", "gsxt_penalty_low")


def test_gsxt_low_fine_threshold_boundary_and_person_threshold() -> None:
    base = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", domain="general",
                decision_date="2024-01-10", publish_date="2024-01-15", province="湖北")
    # ¥100,000 for an organisation is not below the 湖北 threshold: ordinary 3-year rule.
    assert run(d("2024-02-01"), **base, fine_amount_yuan="100000")["rule_id"] == "gsxt_penalty"
    # ¥9,999 for a natural person is below ¥10,000: 3 months, shown through 2024-04-15.
    out = run(d("2024-02-01"), **base, fine_amount_yuan="9999", subject_type="person")
    assert_result(out, "barred", None, "2024-04-16", "gsxt_penalty_low")
    out = run(d("2024-02-01"), **base, fine_amount_yuan="10000", subject_type="person")
    assert_result(out, "conditions_unmet", None, "2027-01-16", "gsxt_penalty")


def test_circulated_criticism_alone_is_the_short_rule() -> None:
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="warning|circulated_criticism",
              decision_date="2024-01-20", publish_date="2024-01-31")
    assert_result(out, "barred", None, "2024-05-01", "gsxt_penalty_low", until="2024-04-30")


def test_unlisted_province_uses_the_default_threshold_and_says_unconfirmed() -> None:
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="5000",
              domain="general", decision_date="2024-01-10", publish_date="2024-01-15", province="广东省")
    assert_result(out, "barred", None, "2024-04-16", "gsxt_penalty_low")
    assert out["confidence"] == "unconfirmed"
    assert "default" in out["basis"]
    # Without a fine the threshold plays no part, so nothing becomes unconfirmed.
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="licence_revocation",
              domain="general", decision_date="2024-01-10", publish_date="2024-01-15", province="广东省")
    assert out["confidence"] == "confirmed"


def test_gsxt_fine_without_amount_is_unknown_naming_the_column() -> None:
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine", domain="general",
              decision_date="2024-01-10", publish_date="2024-01-15")
    assert out["status"] == "unknown" and out["error"] is None
    assert "needs fine_amount_yuan" in out["reason"]


def test_gsxt_penalty_before_45_is_not_covered() -> None:
    out = run(d("2021-01-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine",
              fine_amount_yuan="500000", domain="general", decision_date="2020-05-20", publish_date="2020-06-01")
    assert out["status"] is None and "no removal rule covers platform=gsxt" in out["error"]
    assert "publish_date 2020-06-01 is outside gsxt_penalty (from 2021-09-01 before 2025-12-25)" in out["error"]


# ----------------------------------------------------------------- 经营异常名录 / 严重违法失信名单


def test_serious_list_44_one_year_then_three_unconfirmed() -> None:
    out = run(d("2023-03-31"), platform="gsxt", record_type="serious_illegal_list", listed_date="2022-03-31",
              obligations_done_date="2022-06-01", corrected_date="2022-06-01")
    assert_result(out, "waiting", "2023-04-01", "2025-04-01", "gsxt_serious_list_44")
    assert out["confidence"] == "unconfirmed"


# ----------------------------------------------------------------- 信用中国: 527号 → 58号令 → 36号令


def test_creditchina_regime_switch_on_2026_04_01() -> None:
    case = dict(platform="creditchina", record_type="penalty", penalty_kinds="fine", domain="general",
                severity="general")
    # Decided the day before: 58号令, 3 months / 3 years.
    before = run(d("2026-03-31"), **case, decision_date="2026-03-31")
    assert_result(before, "conditions_unmet", None, "2029-04-01", "cc_penalty_58", until="2029-03-31")
    assert before["confidence"] == "confirmed"
    # Decided on the day: 36号令 一般, 3 months / 1 year.
    on = run(d("2026-04-01"), **case, decision_date="2026-04-01")
    assert_result(on, "conditions_unmet", None, "2027-04-02", "cc_penalty_36_general")
    # The 58号令 record seen after the switch: no transitional clause was seen → unconfirmed.
    later = run(d("2026-04-01"), **case, decision_date="2026-03-31")
    assert later["rule_id"] == "cc_penalty_58" and later["confidence"] == "unconfirmed"
    assert "no transitional clause" in later["basis"]


def test_creditchina_regime_switch_on_2023_05_01() -> None:
    case = dict(platform="creditchina", record_type="penalty", penalty_kinds="fine", domain="general",
                severity="serious", obligations_done_date="2023-06-01", corrected_date="2023-06-01")
    # 527号 严重: 6 months / 3 years from 2023-04-30 → apply from 2023-10-31, shown through 2026-04-30.
    out = run(d("2023-04-30"), **case, decision_date="2023-04-30")
    assert_result(out, "conditions_unmet", None, "2026-05-01", "cc_penalty_527_serious")
    out = run(d("2023-11-01"), **case, decision_date="2023-04-30")
    assert_result(out, "eligible", "2023-10-31", "2026-05-01", "cc_penalty_527_serious")
    # 58号令: 3 months / 3 years from 2023-05-01 → apply from 2023-08-02, shown through 2026-05-01.
    out = run(d("2023-11-01"), **case, decision_date="2023-05-01")
    assert_result(out, "eligible", "2023-08-02", "2026-05-02", "cc_penalty_58")


def test_creditchina_58_safety_domains_wait_a_year() -> None:
    out = run(d("2024-12-01"), platform="creditchina", record_type="penalty", penalty_kinds="fine",
              domain="special_equipment", decision_date="2024-01-10", obligations_done_date="2024-02-01",
              corrected_date="2024-02-01")
    assert_result(out, "waiting", "2025-01-11", "2027-01-11", "cc_penalty_58_safety")


def test_creditchina_527_specific_serious_dishonesty_is_not_repairable() -> None:
    out = run(d("2022-01-01"), platform="creditchina", record_type="penalty", penalty_kinds="licence_revocation",
              domain="food", severity="serious", decision_date="2021-03-01", obligations_done_date="2021-04-01",
              corrected_date="2021-04-01")
    assert_result(out, "barred", None, "2024-03-02", "cc_penalty_527_serious")
    assert out["confidence"] == "unconfirmed"


def test_creditchina_36_minor_not_published_and_serious_one_year() -> None:
    minor = run(d("2026-06-01"), platform="creditchina", record_type="penalty", penalty_kinds="warning",
                severity="minor", decision_date="2026-05-01")
    assert_result(minor, "not_published", None, None, "cc_penalty_36_minor")
    serious = run(d("2027-05-01"), platform="creditchina", record_type="penalty", penalty_kinds="licence_revocation",
                  severity="serious", decision_date="2026-04-15", obligations_done_date="2026-06-01",
                  corrected_date="2026-07-01")
    assert_result(serious, "eligible", "2027-04-16", "2029-04-16", "cc_penalty_36_serious")


# ----------------------------------------------------------------- MIIT, courts, tax


def test_miit_annual_report_listing_removed_on_filing() -> None:
    case = dict(platform="miit", record_type="telecom_bad_list", penalty_kinds="annual_report_missing",
                listed_date="2024-08-01")
    assert_result(run(d("2024-10-01"), **case), "conditions_unmet", None, None, "miit_bad_list_annual_report")
    out = run(d("2024-10-01"), **case, corrected_date="2024-09-15")
    assert_result(out, "eligible", "2024-09-15", None, "miit_bad_list_annual_report")
    assert out["confidence"] == "confirmed"


def test_miit_dishonest_list_is_unconfirmed() -> None:
    out = run(d("2024-01-01"), platform="miit", record_type="telecom_dishonest_list", listed_date="2022-05-01")
    assert out["status"] == "barred" and out["confidence"] == "unconfirmed" and out["auto_removal_on"] is None


def test_court_dishonest_fixed_term_and_extension() -> None:
    # 2017 rules Art 2: 2 years from 2023-06-15 (shown through 2025-06-15); extended to 5 years.
    case = dict(platform="court", record_type="court_dishonest", listed_date="2023-06-15")
    assert_result(run(d("2024-01-01"), **case, term_years="2"), "conditions_unmet", None, "2025-06-16",
                  "court_dishonest_2017_term")
    assert_result(run(d("2025-06-16"), **case, term_years="2"), "expired", None, "2025-06-16",
                  "court_dishonest_2017_term")
    assert_result(run(d("2024-01-01"), **case, term_years="5"), "conditions_unmet", None, "2028-06-16",
                  "court_dishonest_2017_term")
    # Either performing or correcting lets the court delete early.
    assert_result(run(d("2024-01-01"), **case, term_years="2", corrected_date="2023-12-01"), "eligible",
                  "2023-12-01", "2025-06-16", "court_dishonest_2017_term")


def test_court_dishonest_without_term_deleted_on_performance() -> None:
    out = run(d("2023-04-01"), platform="court", record_type="court_dishonest", listed_date="2022-01-10",
              obligations_done_date="2023-03-03")
    assert_result(out, "eligible", "2023-03-03", None, "court_dishonest_2017_no_term")
    assert out["removal_deadline"] == d("2023-03-08")
    old = run(d("2016-06-01"), platform="court", record_type="court_dishonest", listed_date="2015-04-01")
    assert_result(old, "conditions_unmet", None, None, "court_dishonest_2013")
    assert old["removal_deadline"] is None


def test_tax_rule_is_applied_but_unconfirmed() -> None:
    out = run(d("2023-08-01"), platform="tax", record_type="tax_major_violation", publish_date="2023-03-15",
              obligations_done_date="2023-05-01")
    assert_result(out, "waiting", "2023-09-16", "2026-03-16", "tax_major_violation_54")
    assert out["confidence"] == "unconfirmed"


# ----------------------------------------------------------------- the rule data itself


RULES = load_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.rule_id for r in RULES])
def test_every_rule_has_a_worked_example_that_holds(rule: Any) -> None:
    ex = rule.example
    out = run(ex["as_of"], platform=rule.platform, record_type=rule.record_types[0], **ex["case"])
    assert out["error"] is None, out["error"]
    assert out["rule_id"] == rule.rule_id
    assert out["status"] in STATUSES and out["status"] != "unknown", out["reason"]
    for key, value in ex["expect"].items():
        assert out[key] == value, key
    assert out["confidence"] in ("confirmed", "unconfirmed")
    if rule.confidence == "unconfirmed":
        assert out["confidence"] == "unconfirmed"


def test_every_rule_cites_a_document_and_a_grade() -> None:
    for rule in RULES:
        assert "《" in rule.basis, rule.rule_id  # the document's full title, not only its number
        assert rule.basis.rstrip().endswith(("[P]", "[S]")), rule.rule_id


def test_thresholds_have_a_default_and_hubei() -> None:
    provinces = {t.province: t for t in load_low_fine_thresholds()}
    assert provinces["湖北"].organisation_yuan == 100000 and provinces["湖北"].person_yuan == 10000
    assert "*" in provinces


def _write_rules(tmp_path: Path, mutate: Any) -> Path:
    doc = yaml.safe_load(RULES_PATH.read_text("utf-8"))
    mutate(doc["rules"])
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda rules: rules[0].update(platform="weibo"), "platform must be one of"),
        (lambda rules: rules[0].update(min_display_months=-3), "min_display_months"),
        (lambda rules: rules[0].update(domains=["space"]), "domains has unknown value"),
        (lambda rules: rules[0].pop("basis"), "basis must be non-empty"),
        (lambda rules: rules[0].pop("example"), "worked example"),
        (lambda rules: rules[1].update(rule_id=rules[0]["rule_id"]), "duplicate rule_id"),
        (lambda rules: rules[0]["regime"].update(effective_from="2030-01-01", effective_to="2020-01-01"),
         "must be an ISO date"),
        (lambda rules: rules[0].update(term_kinds=["fine"]), "term_kinds needs max_extends_to_term"),
        (lambda rules: rules[0].update(alternative={"regime_from": date(2026, 4, 1)}),
         "alternative needs both regime_from and label"),
        (lambda rules: rules[0].update(alternative={"regime_from": date(2020, 1, 1), "label": "x"}),
         "must not fall inside"),
        (lambda rules: rules[0].update(term_years_range=[5, 2]), "term_years_range"),
        (lambda rules: rules[0].update(deletion={"working_days": 3}), "deletion.after must be one of"),
        (lambda rules: rules[0].update(handling={"working_days": 0, "basis": "x", "confidence": "confirmed"}),
         "handling.working_days"),
        (lambda rules: rules[1].update(alternative={"regime_from": date(2027, 1, 1), "label": "x"}),
         "second alternative.regime_from"),
    ],
)
def test_malformed_rules_name_the_rule_and_field(tmp_path: Path, mutate: Any, message: str) -> None:
    path = _write_rules(tmp_path, mutate)
    with pytest.raises(RuleFileError, match=message) as info:
        load_rules(path)
    assert "cc_penalty_527" in str(info.value)


def test_rules_without_an_alternative_reading_cannot_overlap_alternatives() -> None:
    # Every alternative date is after the rule's own regime (checked above); the 58号令 rules share one.
    dates = {r.alternative_regime_from for r in RULES if r.alternative_regime_from}
    assert dates == {date(2026, 4, 1)}


def test_regime_dates_out_of_order_are_rejected(tmp_path: Path) -> None:
    path = _write_rules(
        tmp_path,
        lambda rules: rules[2]["regime"].update(effective_from=date(2030, 1, 1), effective_to=date(2020, 1, 1)),
    )
    with pytest.raises(RuleFileError, match="cc_penalty_58.*before"):
        load_rules(path)


# ----------------------------------------------------------------- the relation interface


def test_evaluate_cases_over_a_typed_view_without_optional_columns() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE src AS SELECT * FROM (VALUES
            ('a', 'penalty', 'gsxt', 'fine', 250000.0, 'general', NULL, DATE '2024-01-01', DATE '2024-01-31',
             NULL::DATE, DATE '2024-02-01', DATE '2024-02-01', NULL::INTEGER),
            ('b', 'abnormal_operation', 'gsxt', NULL, NULL, NULL, NULL, NULL, NULL, DATE '2023-07-01', NULL,
             NULL, NULL)
        ) AS t(record_id, record_type, platform, penalty_kinds, fine_amount_yuan, domain, severity,
               decision_date, publish_date, listed_date, obligations_done_date, corrected_date, term_years)"""
    )
    con.execute("CREATE SCHEMA wh")
    con.execute("CREATE VIEW wh.cases AS SELECT * FROM src")
    rel = evaluate_cases(con, "wh.cases", date(2024, 9, 1))
    assert tuple(rel.columns) == RESULT_COLUMNS
    rows = {r[0]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()}
    # 2024-01-31 + 6 months = 2024-07-31 (apply from 2024-08-01); + 36 months: shown through 2027-01-31.
    assert (rows["a"]["status"], rows["a"]["early_removal_from"], rows["a"]["auto_removal_on"]) == (
        "eligible", date(2024, 8, 1), date(2027, 2, 1))
    # No province column: the low-fine test used the default (湖北) threshold → unconfirmed.
    assert rows["a"]["confidence"] == "unconfirmed"
    assert rows["b"]["status"] == "conditions_unmet" and rows["b"]["escalation_on"] == date(2026, 7, 2)


def test_evaluate_cases_rejects_a_relation_without_the_columns() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS record_id")
    with pytest.raises(ValueError, match="lacks column"):
        evaluate_cases(con, "t", date(2024, 1, 1))
    with pytest.raises(ValueError, match="must name a table"):
        evaluate_cases(con, "t; DROP TABLE t", date(2024, 1, 1))
    with pytest.raises(ValueError, match="cannot be read"):
        evaluate_cases(con, "nowhere", date(2024, 1, 1))
