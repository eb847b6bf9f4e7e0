"""A source fed from a 双公示 file goes through the same pipeline as a crawl, and never implies removals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import xlsxwriter

from flows import stages
from pipelines.ingest import IngestError, ingest_file
from pipelines.run_folder import RunFolder
from spiders.source import item_fields
from tests.helpers import write_run
from tests.test_marts import LISTED_BAD, operator, penalty
from warehouse.db import connect

# The official template headers, one written with full-width brackets as Excel users often type them.
HEADERS = [
    "行政相对人名称",
    "行政相对人代码_1（统一社会信用代码）",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法事实",
    "处罚类别",
    "处罚内容",
    "罚款金额(万元)",
    "处罚决定日期",
    "处罚机关",
    "备注",
]
PERSON_ID = "110101198001010019"
ROWS = [
    [
        "北京劣迹科技有限公司",
        LISTED_BAD,
        "",
        "",
        "京通管罚〔2026〕20号",
        "未履行安全义务",
        "罚款",
        "罚款0.5万元",
        "0.5",
        "2026年5月1日",
        "北京市通信管理局",
        "",
    ],
    [
        "张三",
        "",
        "身份证",
        PERSON_ID,
        "京通管罚〔2026〕21号",
        f"当事人张三({PERSON_ID})违规",
        "警告",
        "警告",
        "",
        "2026-05-02",
        "北京市通信管理局",
        "",
    ],
    ["某公司", "", "", "", "京通管罚〔2026〕22号", "", "罚款", "", "1", "2026-02-30", "北京市通信管理局", ""],
]
ROWS.append([*ROWS[0][:-1], "repeated row"])  # the same decision twice: one record


def write_csv(path: Path, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(ROWS)
    return path


def write_xlsx(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate([HEADERS, *ROWS]):
        sheet.write_row(r, 0, row)
    book.close()
    return path


@pytest.mark.parametrize(
    "make", [write_csv, lambda p: write_csv(p, "gb18030"), write_xlsx], ids=["csv-utf8", "csv-gb18030", "xlsx"]
)
def test_a_file_goes_through_the_pipeline(tmp_path: Path, make) -> None:
    path = make(tmp_path / ("file.xlsx" if make is write_xlsx else "file.csv"))
    manifest = ingest_file("creditchina_penalties", path, tmp_path / "run", item_fields("creditchina_penalties"))
    assert (manifest.items, manifest.quarantined, manifest.duplicates_dropped) == (2, 1, 1)
    folder = RunFolder(tmp_path / "run")
    records = {
        r["natural_key"]: json.loads(r["fields_json"])
        for r in pq.read_table(folder.records("creditchina_penalties")).to_pylist()
    }
    assert records["京通管罚〔2026〕20号"]["fine_wan"] == "5000"  # 0.5 万元 in 元
    assert records["京通管罚〔2026〕20号"]["subject_uscc"] == LISTED_BAD
    [quarantined] = pq.read_table(folder.quarantine("creditchina_penalties")).to_pylist()
    assert quarantined["field"] == "decided_on" and quarantined["url"].endswith("#L4")
    everything = b"".join(p.read_bytes() for p in folder.path.glob("*.parquet"))
    assert PERSON_ID.encode() not in everything


def test_header_variants_are_folded_and_accepted(tmp_path: Path) -> None:
    """registries.md §7.6: width, spaces and bracket style folded; 行政相对人代码_2 (工商注册号), a mandatory
    行政相对人类别 and the legal representative's ID split into 证件类型 / 证件号码 accepted."""
    headers = ["行政相对人名称", "行政相对人类别", "行政相对人代码_1 【统一社会信用代码】",
               "行政相对人代码_2 (工商注册号)", "法定代表人", "法定代表人证件类型", "法定代表人证件号码",
               "行政处罚决定书文号", "处罚类别", "罚款金额 ［万元］", "处罚决定日期", "处 罚 机 关"]
    row = ["北京劣迹科技有限公司", "法人及非法人组织", LISTED_BAD, "110000012345673", "张三", "身份证", PERSON_ID,
           "京通管罚〔2026〕30号", "罚款", "1", "2026-05-01", "北京市通信管理局"]
    path = tmp_path / "variant.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([headers, row])
    manifest = ingest_file("creditchina_penalties", path, tmp_path / "run", item_fields("creditchina_penalties"))
    assert (manifest.items, manifest.quarantined) == (1, 0)
    folder = RunFolder(tmp_path / "run")
    [record] = pq.read_table(folder.records("creditchina_penalties")).to_pylist()
    fields, raw = json.loads(record["fields_json"]), json.loads(record["raw_json"])
    assert (fields["subject_uscc"], fields["subject_reg_no"], fields["fine_wan"], fields["authority"]) == (
        LISTED_BAD, "110000012345673", "10000", "北京市通信管理局")
    assert fields["legal_rep_id"] and fields["legal_rep_id"] != PERSON_ID  # read, and masked
    assert raw["行政相对人类别"] == "法人及非法人组织" and raw["法定代表人证件类型"] == "身份证"
    assert PERSON_ID.encode() not in b"".join(p.read_bytes() for p in folder.path.glob("*.parquet"))


def test_missing_template_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("名称,日期\nx,2026-01-01\n", "utf-8")
    with pytest.raises(IngestError, match="missing template column"):
        ingest_file("creditchina_penalties", path, tmp_path / "run", item_fields("creditchina_penalties"))


def test_an_ingested_file_never_removes_crawled_records(tmp_path: Path, warehouse: Path) -> None:
    write_run(tmp_path, "r1", "miit_licences", {"l2": operator(2, LISTED_BAD)})
    write_run(
        tmp_path,
        "r1",
        "creditchina_penalties",
        {"京通管罚〔2026〕9号": penalty(LISTED_BAD, "京通管罚〔2026〕9号", "2026-05-01")},
        record_type="penalty",
    )
    stages.load_and_build(warehouse, tmp_path / "r1")
    result = stages.ingest(warehouse, "creditchina_penalties", write_csv(tmp_path / "file.csv"))
    assert result["load"]["new"] == 2 and result["load"]["removed"] == 0
    con = connect(warehouse, read_only=True)
    assert con.execute("SELECT count(*) FROM raw.records WHERE removed_at IS NOT NULL").fetchall()[0][0] == 0
