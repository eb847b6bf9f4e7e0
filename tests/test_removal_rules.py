"""Removal rules applied by the DuckDB engine: one worked example per rule, regime switches, bars.

Expected dates are worked out by hand from the article (start date + calendar months, clamped to
the month's end), never by calling the engine.
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
from transforms.removal.engine import RULES_PATH, load_low_fine_thresholds

ALL_COLUMNS = (*CASE_COLUMNS, "province", "subject_type")


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


def assert_result(out: dict[str, Any], status: str, early: str | None, auto: str | None, rule_id: str) -> None:
    assert out["error"] is None, out["error"]
    assert (out["status"], out["rule_id"]) == (status, rule_id)
    assert out["early_removal_from"] == (d(early) if early else None)
    assert out["auto_removal_on"] == (d(auto) if auto else None)


# ----------------------------------------------------------------- gsxt, 总局令第45号 + 国市监信规〔2021〕3号


def test_gsxt_warning_only_is_never_published() -> None:
    # 45号令 Art 2: a warning alone is not shown.
    out = run(d("2024-01-01"), platform="gsxt", record_type="penalty", penalty_kinds="warning",
              decision_date="2023-03-01")
    assert_result(out, "not_published", None, None, "gsxt_penalty_warning_only")
    assert out["confidence"] == "confirmed"


def test_gsxt_ordinary_penalty_six_months_then_three_years() -> None:
    # Published 2023-06-30: early stop from +6 months = 2023-12-30; stop at +3 years = 2026-06-30.
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine|confiscation", fine_amount_yuan="200000",
                domain="general", publish_date="2023-06-30", obligations_done_date="2023-07-15",
                corrected_date="2023-07-20", province="湖北省")
    assert_result(run(d("2023-12-29"), **case), "waiting", "2023-12-30", "2026-06-30", "gsxt_penalty")
    assert_result(run(d("2023-12-30"), **case), "eligible", "2023-12-30", "2026-06-30", "gsxt_penalty")
    assert_result(run(d("2026-06-30"), **case), "expired", None, "2026-06-30", "gsxt_penalty")


def test_gsxt_conditions_must_both_be_recorded_by_the_as_of_date() -> None:
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="500000",
                domain="general", publish_date="2023-01-10", obligations_done_date="2023-02-01")
    # Corrected date missing: Art 14 needs both, so no early date yet.
    assert_result(run(d("2024-01-01"), **case), "conditions_unmet", None, "2026-01-10", "gsxt_penalty")
    # A correction dated after the as-of date does not count yet.
    later = case | {"corrected_date": "2024-03-01"}
    assert_result(run(d("2024-01-01"), **later), "conditions_unmet", None, "2026-01-10", "gsxt_penalty")
    # Once recorded: the later of (publication + 6 months = 2023-07-10) and the condition dates.
    assert_result(run(d("2024-03-01"), **later), "eligible", "2024-03-01", "2026-01-10", "gsxt_penalty")


def test_gsxt_food_drug_special_equipment_wait_one_year() -> None:
    # 国市监信规〔2021〕3号 Art 6: 1 year for food/drug/special equipment. 2024-02-29 + 12 months = 2025-02-28.
    out = run(d("2024-12-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="300000",
              domain="drug", publish_date="2024-02-29", obligations_done_date="2024-03-10",
              corrected_date="2024-03-10", province="湖北")
    assert_result(out, "waiting", "2025-02-28", "2027-02-28", "gsxt_penalty_food_drug_equipment")


@pytest.mark.parametrize(
    "kind",
    ["suspension_of_business", "production_restriction", "employment_restriction", "qualification_downgrade",
     "licence_revocation", "business_licence_revocation"],
)
def test_gsxt_severe_penalties_have_no_early_path(kind: str) -> None:
    # 45号令 Art 14: shown the full 3 years (2022-05-10 + 36 months) even with everything performed.
    out = run(d("2023-06-01"), platform="gsxt", record_type="penalty", penalty_kinds=f"fine|{kind}",
              fine_amount_yuan="50000", domain="general", publish_date="2022-05-10",
              obligations_done_date="2022-06-01", corrected_date="2022-06-01", province="湖北")
    assert_result(out, "barred", None, "2025-05-10", "gsxt_penalty")
    assert "第十四条" in out["basis"]


def test_gsxt_licence_suspension_is_not_in_the_art14_list() -> None:
    # 暂扣许可证件 is not named in Art 14, so the ordinary 6-month path applies (2022-05-10 + 6 = 2022-11-10).
    out = run(d("2023-06-01"), platform="gsxt", record_type="penalty", penalty_kinds="licence_suspension",
              domain="general", publish_date="2022-05-10", obligations_done_date="2022-06-01",
              corrected_date="2022-06-01")
    assert_result(out, "eligible", "2022-11-10", "2025-05-10", "gsxt_penalty")


def test_gsxt_restriction_longer_than_three_years_sets_the_display_period() -> None:
    # 45号令 Art 13: a 5-year 限制从业 is shown for 5 years: 2022-05-10 + 60 months.
    out = run(d("2025-06-01"), platform="gsxt", record_type="penalty", penalty_kinds="employment_restriction",
              domain="general", publish_date="2022-05-10", term_years="5")
    assert_result(out, "barred", None, "2027-05-10", "gsxt_penalty")


def test_gsxt_low_fine_stops_after_three_months_with_month_end_clamping() -> None:
    # 45号令 Art 13: 较低数额罚款 → 3 months from publication; 2024-11-30 + 3 months = 2025-02-28.
    case = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="99999.99",
                domain="general", publish_date="2024-11-30", province="湖北省")
    out = run(d("2025-01-15"), **case)
    assert_result(out, "barred", None, "2025-02-28", "gsxt_penalty_low")
    assert out["confidence"] == "confirmed"
    assert_result(run(d("2025-02-28"), **case), "expired", None, "2025-02-28", "gsxt_penalty_low")


def test_gsxt_low_fine_threshold_boundary_and_person_threshold() -> None:
    base = dict(platform="gsxt", record_type="penalty", penalty_kinds="fine", domain="general",
                publish_date="2024-01-15", province="湖北")
    # ¥100,000 for an organisation is not below the 湖北 threshold: ordinary 3-year rule (2027-01-15).
    assert run(d("2024-02-01"), **base, fine_amount_yuan="100000")["rule_id"] == "gsxt_penalty"
    # ¥9,999 for a natural person is below ¥10,000: 3 months (2024-04-15).
    out = run(d("2024-02-01"), **base, fine_amount_yuan="9999", subject_type="person")
    assert_result(out, "barred", None, "2024-04-15", "gsxt_penalty_low")
    out = run(d("2024-02-01"), **base, fine_amount_yuan="10000", subject_type="person")
    assert_result(out, "conditions_unmet", None, "2027-01-15", "gsxt_penalty")


def test_circulated_criticism_alone_is_the_short_rule() -> None:
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="warning|circulated_criticism",
              publish_date="2024-01-31")
    assert_result(out, "barred", None, "2024-04-30", "gsxt_penalty_low")


def test_unlisted_province_uses_the_default_threshold_and_says_unconfirmed() -> None:
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine", fine_amount_yuan="5000",
              domain="general", publish_date="2024-01-15", province="广东省")
    assert_result(out, "barred", None, "2024-04-15", "gsxt_penalty_low")
    assert out["confidence"] == "unconfirmed"
    assert "default" in out["basis"]
    # Without a fine the threshold plays no part, so nothing becomes unconfirmed.
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="licence_revocation",
              domain="general", publish_date="2024-01-15", province="广东省")
    assert out["confidence"] == "confirmed"


def test_gsxt_fine_without_amount_is_an_error_naming_the_column() -> None:
    out = run(d("2024-02-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine", domain="general",
              publish_date="2024-01-15")
    assert out["status"] is None
    assert "fine_amount_yuan" in out["error"]


def test_gsxt_penalty_before_45_is_not_covered() -> None:
    out = run(d("2021-01-01"), platform="gsxt", record_type="penalty", penalty_kinds="fine",
              fine_amount_yuan="500000", domain="general", publish_date="2020-06-01")
    assert out["status"] is None and "no removal rule covers platform=gsxt" in out["error"]
    assert "publish_date 2020-06-01 is outside gsxt_penalty (from 2021-09-01)" in out["error"]


# ----------------------------------------------------------------- 经营异常名录 / 严重违法失信名单


def test_abnormal_operations_listing_escalates_after_three_uncorrected_years() -> None:
    case = dict(platform="gsxt", record_type="abnormal_operation", listed_date="2023-07-01",
                penalty_kinds="annual_report_missing")
    out = run(d("2024-03-01"), **case)
    assert_result(out, "conditions_unmet", None, None, "gsxt_abnormal_operation")
    assert out["escalation_on"] == d("2026-07-01")  # 2023-07-01 + 3 years
    # Corrected: removal may be applied for from the correction day, and the escalation is off.
    out = run(d("2024-03-01"), **case, corrected_date="2024-02-01")
    assert_result(out, "eligible", "2024-02-01", None, "gsxt_abnormal_operation")
    assert out["escalation_on"] is None
    # A correction after the 3 years does not undo the escalation.
    out = run(d("2026-08-01"), **case, corrected_date="2026-07-15")
    assert out["escalation_on"] == d("2026-07-01")


def test_abnormal_escalation_is_month_end_clamped() -> None:
    out = run(d("2024-03-01"), platform="gsxt", record_type="abnormal_operation", listed_date="2024-02-29")
    assert out["escalation_on"] == d("2027-02-28")


def test_serious_list_44_one_year_then_three_unconfirmed() -> None:
    out = run(d("2023-03-30"), platform="gsxt", record_type="serious_illegal_list", listed_date="2022-03-31",
              obligations_done_date="2022-06-01", corrected_date="2022-06-01")
    assert_result(out, "waiting", "2023-03-31", "2025-03-31", "gsxt_serious_list_44")
    assert out["confidence"] == "unconfirmed"


# ----------------------------------------------------------------- 信用中国: 527号 → 58号令 → 36号令


def test_creditchina_regime_switch_on_2026_04_01() -> None:
    case = dict(platform="creditchina", record_type="penalty", penalty_kinds="fine", domain="general",
                severity="general")
    # Decided the day before: 58号令, 3 months / 3 years.
    before = run(d("2026-03-31"), **case, decision_date="2026-03-31")
    assert_result(before, "conditions_unmet", None, "2029-03-31", "cc_penalty_58")
    assert before["confidence"] == "confirmed"
    # Decided on the day: 36号令 一般, 3 months / 1 year.
    on = run(d("2026-04-01"), **case, decision_date="2026-04-01")
    assert_result(on, "conditions_unmet", None, "2027-04-01", "cc_penalty_36_general")
    # The 58号令 record seen after the switch: no transitional clause was seen → unconfirmed.
    later = run(d("2026-04-01"), **case, decision_date="2026-03-31")
    assert later["rule_id"] == "cc_penalty_58" and later["confidence"] == "unconfirmed"
    assert "no transitional clause" in later["basis"]


def test_creditchina_regime_switch_on_2023_05_01() -> None:
    case = dict(platform="creditchina", record_type="penalty", penalty_kinds="fine", domain="general",
                severity="serious", obligations_done_date="2023-06-01", corrected_date="2023-06-01")
    # 527号 严重: 6 months / 3 years from 2023-04-30 → 2023-10-30 / 2026-04-30.
    out = run(d("2023-04-30"), **case, decision_date="2023-04-30")
    assert_result(out, "conditions_unmet", None, "2026-04-30", "cc_penalty_527_serious")
    out = run(d("2023-11-01"), **case, decision_date="2023-04-30")
    assert_result(out, "eligible", "2023-10-30", "2026-04-30", "cc_penalty_527_serious")
    # 58号令: 3 months / 3 years from 2023-05-01 → 2023-08-01 / 2026-05-01.
    out = run(d("2023-11-01"), **case, decision_date="2023-05-01")
    assert_result(out, "eligible", "2023-08-01", "2026-05-01", "cc_penalty_58")


def test_creditchina_58_safety_domains_wait_a_year() -> None:
    out = run(d("2024-12-01"), platform="creditchina", record_type="penalty", penalty_kinds="fine",
              domain="special_equipment", decision_date="2024-01-10", obligations_done_date="2024-02-01",
              corrected_date="2024-02-01")
    assert_result(out, "waiting", "2025-01-10", "2027-01-10", "cc_penalty_58_safety")


def test_creditchina_527_specific_serious_dishonesty_is_not_repairable() -> None:
    out = run(d("2022-01-01"), platform="creditchina", record_type="penalty", penalty_kinds="licence_revocation",
              domain="food", severity="serious", decision_date="2021-03-01", obligations_done_date="2021-04-01",
              corrected_date="2021-04-01")
    assert_result(out, "barred", None, "2024-03-01", "cc_penalty_527_serious")
    assert out["confidence"] == "unconfirmed"


def test_creditchina_36_minor_not_published_and_serious_one_year() -> None:
    minor = run(d("2026-06-01"), platform="creditchina", record_type="penalty", penalty_kinds="warning",
                severity="minor", decision_date="2026-05-01")
    assert_result(minor, "not_published", None, None, "cc_penalty_36_minor")
    serious = run(d("2027-05-01"), platform="creditchina", record_type="penalty", penalty_kinds="licence_revocation",
                  severity="serious", decision_date="2026-04-15", obligations_done_date="2026-06-01",
                  corrected_date="2026-07-01")
    assert_result(serious, "eligible", "2027-04-15", "2029-04-15", "cc_penalty_36_serious")


def test_creditchina_36_needs_severity() -> None:
    out = run(d("2026-06-01"), platform="creditchina", record_type="penalty", penalty_kinds="fine",
              decision_date="2026-05-01")
    assert out["status"] is None and "needs severity" in out["error"]


def test_missing_clock_date_is_an_error_naming_it() -> None:
    out = run(d("2026-06-01"), platform="creditchina", record_type="penalty", penalty_kinds="fine",
              severity="general", publish_date="2026-05-01")
    assert out["status"] is None and "decision_date" in out["error"]


# ----------------------------------------------------------------- MIIT, courts, tax


def test_miit_annual_report_listing_removed_on_filing() -> None:
    case = dict(platform="miit", record_type="telecom_bad_list", penalty_kinds="annual_report_missing",
                listed_date="2024-08-01")
    assert_result(run(d("2024-10-01"), **case), "conditions_unmet", None, None, "miit_bad_list_annual_report")
    out = run(d("2024-10-01"), **case, corrected_date="2024-09-15")
    assert_result(out, "eligible", "2024-09-15", None, "miit_bad_list_annual_report")
    assert out["confidence"] == "confirmed"


def test_miit_penalty_and_dishonest_lists_are_unconfirmed() -> None:
    bad = run(d("2024-01-01"), platform="miit", record_type="telecom_bad_list", penalty_kinds="fine",
              listed_date="2023-01-01")
    dishonest = run(d("2024-01-01"), platform="miit", record_type="telecom_dishonest_list", listed_date="2022-05-01")
    for out in (bad, dishonest):
        assert out["status"] == "barred" and out["confidence"] == "unconfirmed"


def test_court_dishonest_fixed_term_and_extension() -> None:
    # 2017 rules Art 2: 2 years (2023-06-15 + 24 months); extended to 5 years: + 60 months.
    case = dict(platform="court", record_type="court_dishonest", listed_date="2023-06-15")
    assert_result(run(d("2024-01-01"), **case, term_years="2"), "conditions_unmet", None, "2025-06-15",
                  "court_dishonest_2017_term")
    assert_result(run(d("2025-06-15"), **case, term_years="2"), "expired", None, "2025-06-15",
                  "court_dishonest_2017_term")
    assert_result(run(d("2024-01-01"), **case, term_years="5"), "conditions_unmet", None, "2028-06-15",
                  "court_dishonest_2017_term")
    # Either performing or correcting lets the court delete early.
    assert_result(run(d("2024-01-01"), **case, term_years="2", corrected_date="2023-12-01"), "eligible",
                  "2023-12-01", "2025-06-15", "court_dishonest_2017_term")


def test_court_dishonest_without_term_deleted_on_performance() -> None:
    out = run(d("2023-04-01"), platform="court", record_type="court_dishonest", listed_date="2022-01-10",
              obligations_done_date="2023-03-03")
    assert_result(out, "eligible", "2023-03-03", None, "court_dishonest_2017_no_term")
    old = run(d("2016-06-01"), platform="court", record_type="court_dishonest", listed_date="2015-04-01")
    assert_result(old, "conditions_unmet", None, None, "court_dishonest_2013")


def test_tax_rule_is_applied_but_unconfirmed() -> None:
    out = run(d("2023-08-01"), platform="tax", record_type="tax_major_violation", publish_date="2023-03-15",
              obligations_done_date="2023-05-01")
    assert_result(out, "waiting", "2023-09-15", "2026-03-15", "tax_major_violation_54")
    assert out["confidence"] == "unconfirmed"


# ----------------------------------------------------------------- the rule data itself


RULES = load_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.rule_id for r in RULES])
def test_every_rule_has_a_worked_example_that_holds(rule: Any) -> None:
    ex = rule.example
    out = run(ex["as_of"], platform=rule.platform, record_type=rule.record_types[0], **ex["case"])
    assert out["error"] is None, out["error"]
    assert out["rule_id"] == rule.rule_id
    assert out["status"] in STATUSES
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
    ],
)
def test_malformed_rules_name_the_rule_and_field(tmp_path: Path, mutate: Any, message: str) -> None:
    path = _write_rules(tmp_path, mutate)
    with pytest.raises(RuleFileError, match=message) as info:
        load_rules(path)
    assert "cc_penalty_527" in str(info.value)


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
    assert rel.columns == ["record_id", "status", "early_removal_from", "auto_removal_on", "escalation_on",
                           "rule_id", "basis", "confidence", "error"]
    rows = {r[0]: r for r in rel.fetchall()}
    # 2024-01-31 + 6 months = 2024-07-31 (eligible by 2024-09-01); + 36 months = 2027-01-31.
    assert rows["a"][1:4] == ("eligible", date(2024, 7, 31), date(2027, 1, 31))
    # No province column: the low-fine test used the default (湖北) threshold → unconfirmed.
    assert rows["a"][7] == "unconfirmed"
    assert rows["b"][1] == "conditions_unmet" and rows["b"][4] == date(2026, 7, 1)


def test_evaluate_cases_rejects_a_relation_without_the_columns() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS record_id")
    with pytest.raises(ValueError, match="lacks column"):
        evaluate_cases(con, "t", date(2024, 1, 1))
    with pytest.raises(ValueError, match="must name a table"):
        evaluate_cases(con, "t; DROP TABLE t", date(2024, 1, 1))
    with pytest.raises(ValueError, match="cannot be read"):
        evaluate_cases(con, "nowhere", date(2024, 1, 1))
