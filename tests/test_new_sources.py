"""Issue 15: 信用中国's 严重失信主体名单, 重大税收违法失信主体, and the annual reports as early warnings.

Each source's crawl against its replica (ground truth, faults, challenge, redesign, captcha) is in the
parametrised fault suite (tests/test_fault_suite.py); here: what the spiders do to a row, and what the marts
make of the annual-report facts on a small warehouse built from written runs."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from pipelines.items import RecordItem, record_id
from replica.world import World, uscc_check_char
from spiders.creditchina_serious_dishonest.spider import CreditchinaSeriousDishonestSpider, columns_by_label, entry_key
from spiders.creditchina_tax_violations.replica import case_row
from spiders.creditchina_tax_violations.spider import (
    WITHHELD,
    CreditchinaTaxViolationsSpider,
    mask_person_name,
    masked_row,
    reported_on,
)
from spiders.gsxt_annual_reports.spider import GsxtAnnualReportsSpider
from spiders.platforms.creditchina import Hit, catalog_table, entity_category, site_list
from spiders.source import sources
from tests.helpers import licence_fields, write_run
from transforms.alerts.events import compute_events
from transforms.build import build
from transforms.export import ANNUAL_SHEET, collect_tables, display_frame
from transforms.report import collect_report, render_report
from warehouse.db import connect
from warehouse.load import load_run


def uscc(body: str) -> str:
    first17 = ("91110000" + body)[:17]
    return first17 + uscc_check_char(first17)


LATE, ON_TIME, NEW = uscc("AAAAAAAA1"), uscc("BBBBBBBB2"), uscc("CCCCCCCC3")
NAMES = {LATE: "北京迟报科技有限公司", ON_TIME: "北京按时科技有限公司", NEW: "北京新证科技有限公司"}
TELECOM_2025 = "telecom annual report for 2025 not filed (due 2026-03-31)"
COMPANY_2025 = "company annual report for 2025 not filed (due 2026-06-30)"


# -------------------------------------------------------------------------------------------- spiders
def test_tax_cases_keep_people_masked_and_the_period_as_a_month() -> None:
    world = World()
    row = case_row(world.tax_major_violations[0]) | {"fyzjzrdzjjgxxjqcyryxx": "某会计师事务所，从业人员张三"}
    kept = masked_row(row)
    assert kept["fddbrhzfzrmc"] == mask_person_name(row["fddbrhzfzrmc"]) != row["fddbrhzfzrmc"]
    assert kept["fddbrhzfzrmc"][0] == row["fddbrhzfzrmc"][0] and set(kept["fddbrhzfzrmc"][1:]) == {"*"}
    assert kept["fyzjzrdcwfzrxm"] != row["fyzjzrdcwfzrxm"] and kept["fyzjzrdzjjgxxjqcyryxx"] == WITHHELD
    assert kept["nsrmc"] == row["nsrmc"]  # the organisation is not personal data
    assert mask_person_name("") is None and mask_person_name("王") == "王*"
    assert reported_on("2025年03月") == reported_on("2025-3") == reported_on("202503") == "2025-03-01"
    assert reported_on("2025年13月") == "2025-13-01"  # the date normaliser refuses it, naming the value
    assert reported_on("待定") is None


def test_serious_dishonesty_rows_are_read_by_their_labels() -> None:
    row = {"table_name": "t", "sencesMap": {"a1": "失信主体名称", "b2": "列入日期", "c3": "失信行为", "d4": "文书号"},
           "entity": {"a1": "北京某某科技有限公司", "b2": "2026-01-05", "c3": "拒不履行", "d4": ""}}
    columns = columns_by_label(row)
    assert columns == {"subject_name": "a1", "listed_on": "b2", "reason": "c3", "document_no": "d4"}
    fields = {f: row["entity"][c] for f, c in columns.items()}
    # No 文书号: the key is built from the name, the raw date and the reason, and stays the same run to run.
    assert entry_key(fields) == entry_key(dict(fields))
    assert entry_key(fields).startswith("北京某某科技有限公司|2026-01-05|")
    assert entry_key(fields | {"document_no": "京信严失〔2026〕1号"}) == "京信严失〔2026〕1号"


# --------------------------------------------------------------------- offline parsing of saved responses
def saved(source: str, name: str, request: Request) -> TextResponse:
    return TextResponse(request.url, body=(sources()[source].fixtures / name).read_bytes(), encoding="utf-8",
                        request=request)


def make(spider_class: type, **kwargs: Any) -> Any:
    crawler = get_crawler(spider_class, settings_dict={"CREDITWATCH_CAPTCHA_SOLVER": "none"})
    return spider_class.from_crawler(crawler, base_url=sources()[spider_class.name].live_base_url, **kwargs)


def test_the_page_list_leads_to_every_listed_name_and_an_entity_page_to_its_entries() -> None:
    reader = make(CreditchinaSeriousDishonestSpider)
    listing = site_list("shixinheimingdan", "read_list_row")
    out = list(reader.parse_listing(saved(reader.name, "site_list_page1.json", reader.listing_request(listing, 1))))
    searched = [o.meta["listing"].query[0][1] for o in out if isinstance(o, Request)]
    assert "上海华天数据中心" in searched  # no default term (公司, 服务部) finds it: only the list leads there
    assert len(searched) == len(set(searched)) == 4
    hit = Hit("中卫达通通信技术有限公司", "91640000HUCCP50L2F", "1", "R")
    request = reader.listing_request(entity_category(hit, "严重失信主体名单"), 1)
    [item] = [o for o in reader.parse_listing(saved(reader.name, "category_page1.json", request))
              if isinstance(o, RecordItem)]
    assert (item.record_type, item.natural_key) == ("serious_dishonest_list", item.fields["document_no"])
    assert item.fields["list_name"] == "严重违法失信企业名单" and item.fields["subject_uscc"] == hit.code


def test_a_watchlist_searches_the_page_list_instead_of_reading_it_whole() -> None:
    default = [lst for lst in make(CreditchinaSeriousDishonestSpider).start_listings()
               if lst.path == "/typeNameAndCountSearch"]
    assert [dict(lst.query)["keyword"] for lst in default] == [""]
    watch = [lst for lst in make(CreditchinaSeriousDishonestSpider, terms="中卫达通,上海华天").start_listings()
             if lst.path == "/typeNameAndCountSearch"]
    assert [dict(lst.query)["keyword"] for lst in watch] == ["中卫达通", "上海华天"]


def test_a_tax_catalogue_page_yields_cases_with_people_masked() -> None:
    reader = make(CreditchinaTaxViolationsSpider)
    request = reader.listing_request(catalog_table("credit_swzj_fr_zdsswfajdsr", "read_case", "公司"), 1)
    response = saved(reader.name, "catalog_page1.json", request)
    items = [o for o in reader.parse_listing(response) if isinstance(o, RecordItem)]
    published = json.loads(response.text)["data"]["list"]
    assert len(items) == len(published) == 3
    for item, row in zip(items, published, strict=True):
        assert item.fields["legal_rep"] == mask_person_name(row["fddbrhzfzrmc"]) != row["fddbrhzfzrmc"]
        assert row["fddbrhzfzrmc"] not in json.dumps(item.raw, ensure_ascii=False)
        assert item.natural_key.startswith(f"{row['tyshxydm']}|{row['ajsbq']}|")


def test_annual_report_pages_make_one_record_when_all_are_in() -> None:
    reader = make(GsxtAnnualReportsSpider)
    entity = {"pripid": "P1", "entName": "北京某科技有限公司", "nodeNum": "110000", "entType": "1",
              "uniscId": LATE}
    first = reader.reports(entity, 0)
    out = list(reader.parse_reports(saved(reader.name, "anCheYearInfo_page1.json", first)))
    assert [o.meta["start"] for o in out] == [5]  # 6 reports, 5 a page: one more page, no record yet
    last_page = {"recordsTotal": 6, "totalPage": 2, "data": [{"anCheId": "x", "anCheYear": "2020",
                                                              "anCheDate": "2021-03-01"}]}
    second = reader.reports(entity, 5)
    [item] = reader.parse_reports(TextResponse(second.url, body=json.dumps(last_page).encode(), encoding="utf-8",
                                               request=second))
    assert (item.natural_key, item.fields["last_filed_year"]) == (f"{LATE}|北京某科技有限公司", "2025")
    assert item.fields["years_filed"] == "2020,2021,2022,2023,2024,2025"


# ------------------------------------------------------------------------------ annual-report warnings
def licence(n: int, code: str, issued: str = "2024-01-01") -> dict:
    fields = licence_fields(n, NAMES[code]) | {"uscc": code}
    return fields | {"business_types": [fields["business_types"][0] | {"issued_on": issued}]}


def telecom_report(n: int, code: str, year: str | None) -> dict:
    return {"lic_id": f"l{n}", "licence_no": f"B1-2024{n:04d}", "company_name": NAMES[code], "last_filed_year": year}


def company_report(code: str, year: str) -> dict:
    return {"subject_name": NAMES[code], "subject_uscc": code, "last_filed_year": year,
            "last_filed_on": f"{int(year) + 1}-04-01", "years_filed": f"2023,{year}"}


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("annual")
    con = connect(root / "data" / "creditwatch.duckdb")
    runs = root / "runs"
    write_run(runs, "r1", "miit_licences", {"l1": licence(1, LATE), "l2": licence(2, ON_TIME),
                                            "l3": licence(3, NEW, issued="2026-02-01")})
    write_run(runs, "r1", "miit_annual_reports", {
        "l1": telecom_report(1, LATE, "2024"), "l2": telecom_report(2, ON_TIME, "2025"),
        "l3": telecom_report(3, NEW, None)}, record_type="telecom_annual_report")
    write_run(runs, "r1", "gsxt_annual_reports", {
        f"{LATE}|x": company_report(LATE, "2025"), f"{ON_TIME}|x": company_report(ON_TIME, "2024")},
        record_type="company_annual_report")
    load_run(con, runs / "r1")
    yield con, runs
    con.close()


def warnings_at(con, as_of: date) -> tuple[dict, dict, dict]:
    """(licence_risk by licence, annual_report_warnings by (operator, kind), operator_risk by operator) at as_of."""
    build(con, targets=["marts.licence_risk"], as_of=as_of)
    risk = {r[0]: r[1:] for r in con.execute(
        "SELECT licence_no, annual_report_warning, annual_report_due_on, annual_report_days_left, blocking_lists "
        "FROM marts.licence_risk").fetchall()}
    warnings = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT operator_id, report_kind, warning, days_left, overdue FROM marts.annual_report_warnings").fetchall()}
    operators = {r[0]: r[1:] for r in con.execute(
        "SELECT operator_id, annual_report_warnings, next_annual_report_due_on, annual_report_days_left "
        "FROM marts.operator_risk").fetchall()}
    return risk, warnings, operators


def test_a_telecom_report_missing_past_31_march_shows_in_licence_risk_after_it_and_not_before(wh) -> None:
    con, _ = wh
    risk, warnings, operators = warnings_at(con, date(2026, 4, 1))
    assert risk == {"B1-20240001": (TELECOM_2025, date(2026, 3, 31), -1, None)}  # l2 filed; l3 issued in 2026
    assert warnings[(LATE, "telecom_licence")] == (TELECOM_2025, -1, True)
    assert operators[LATE][0] == f"{TELECOM_2025} [B1-20240001], 1 days overdue"
    # The company report (due 30 June) is the other operator's: an early warning, 90 days left.
    assert warnings[(ON_TIME, "company")] == (COMPANY_2025, 90, False)
    assert operators[ON_TIME] == (f"{COMPANY_2025}, 90 days left", date(2026, 6, 30), 90)
    assert operators[NEW] == (None, None, None)

    # Inside the filing period (it opens on 1 January): the same report is an early warning with days left.
    risk, warnings, _ = warnings_at(con, date(2026, 3, 15))
    assert risk["B1-20240001"][:3] == (TELECOM_2025, date(2026, 3, 31), 16)
    assert warnings[(LATE, "telecom_licence")] == (TELECOM_2025, 16, False)

    # Before the period for 2025 opens, the report owed is 2024's, which was filed: no warning.
    risk, warnings, _ = warnings_at(con, date(2025, 12, 31))
    assert "B1-20240001" not in risk and (LATE, "telecom_licence") not in warnings
    assert (ON_TIME, "company") not in warnings  # its 2024 report is filed: nothing owed yet


def test_the_warning_is_an_alert_kind(wh) -> None:
    con, _ = wh
    build(con, as_of=date(2026, 11, 23))
    events = [e for e in compute_events(con, licence_expiry_days=90, max_age_days=14)
              if e.kind == "annual_report_due"]
    by_operator = {(e.operator_id, e.reference): e for e in events}
    late = by_operator[(LATE, "B1-20240001")]
    assert late.severity == "warning" and late.event_on == date(2026, 3, 31)
    assert late.detail == "2025年度电信业务经营许可年报未报送（截止2026-03-31），已逾期 237 天"
    assert {e.operator_id for e in events} == {LATE, ON_TIME}


def test_the_workbook_and_the_report_show_the_warnings(wh) -> None:
    con, _ = wh
    build(con, as_of=date(2026, 11, 23))
    frames = collect_tables(con, "2026-W48")
    sheet = frames["annual_report_warnings"]
    assert sorted(zip(sheet["operator_id"], sheet["report_kind"], sheet["days_left"], strict=True)) == [
        (LATE, "telecom_licence", -237), (ON_TIME, "company", -146)]
    shown = display_frame(ANNUAL_SHEET, sheet, "zh")
    assert set(shown["report_kind"]) == {"电信业务经营许可年报", "企业年度报告"}
    assert frames["licence_risk"]["annual_report_warning"].tolist() == [TELECOM_2025]
    summary = dict(frames["summary"].itertuples(index=False))
    assert (summary["annual_report_warnings"], summary["annual_reports_overdue"]) == ("2", "2")
    page = render_report(collect_report(con, "2026-W48", "en"), "en")
    assert '<section id="annual">' in page and f"<td>{TELECOM_2025}</td>" in page and "<td>-237</td>" in page


def test_a_filed_report_ends_the_warning_and_the_old_year_stays_in_history(wh) -> None:
    con, runs = wh
    write_run(runs, "r2", "miit_annual_reports", {
        "l1": telecom_report(1, LATE, "2025"), "l2": telecom_report(2, ON_TIME, "2025"),
        "l3": telecom_report(3, NEW, None)},
        record_type="telecom_annual_report", finished_at="2026-11-30T06:00:00+00:00")
    load_run(con, runs / "r2")
    risk, warnings, _ = warnings_at(con, date(2026, 12, 1))
    assert "B1-20240001" not in risk and (LATE, "telecom_licence") not in warnings
    versions = con.execute("SELECT list(fields_json ->> 'last_filed_year' ORDER BY version) "
                           "FROM raw.record_version_contents WHERE record_id = ?",
                           [record_id("miit_annual_reports", "l1")]).fetchone()[0]
    assert versions == ["2024", "2025"]
