"""The record → operator linker: name parsing, each link method, judgements, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.link import LinkInputError, link_csv_files, link_records
from transforms.link.index import MAX_CANDIDATES, build_index
from transforms.link.parse import parse_name, split_branch
from transforms.link.vocab import REGIONS

KSYUN_USCC = "91110108701007919F"  # valid (GB 32100 check character computed with python-stdnum)
OTHER_USCC = "911101087131029479"


def operators() -> pd.DataFrame:
    return pd.DataFrame({
        "operator_id": ["ksyun", "aliyun", "ucloud", "wangsu"],
        "name": ["北京金山云网络技术有限公司", "阿里云计算有限公司", "优刻得科技股份有限公司", "网宿科技股份有限公司"],
        "uscc": [KSYUN_USCC, None, "", None],
        "aliases": ["金山云", "阿里云|阿里巴巴云计算（北京）有限公司", ["UCloud"], None],
    })


def link_one(name: str, uscc: str | None = None, ops: pd.DataFrame | None = None,
             judgements: pd.DataFrame | None = None) -> dict[str, object]:
    records = pd.DataFrame({"record_id": ["r1"], "name": [name], "uscc": [uscc]})
    row = link_records(operators() if ops is None else ops, records, judgements).iloc[0].to_dict()
    row["evidence"] = json.loads(row["evidence"])
    return row


# ------------------------------------------------------------------------------------------ parsing

@pytest.mark.parametrize(("name", "parts"), [
    ("北京金山云网络技术有限公司", ("北京", "金山云", "网络技术", "有限公司")),
    ("金山云（北京）网络技术有限公司", ("北京", "金山云", "网络技术", "有限公司")),
    ("金山云网络技术(北京)有限责任公司", ("北京", "金山云", "网络技术", "有限公司")),
    ("广东省深圳市腾讯计算机系统有限公司", ("深圳", "腾讯", "计算机系统", "有限公司")),
    ("華為雲計算技術有限公司", ("", "华为", "云计算技术", "有限公司")),
    ("优刻得科技股份有限公司", ("", "优刻得", "科技", "股份有限公司")),
    ("北京科技有限公司", ("北京", "科技", "", "有限公司")),  # nothing left for a trade name: keep the word
])
def test_parse_name_splits_region_trade_industry_form(name: str, parts: tuple[str, ...]) -> None:
    parsed = parse_name(name)
    assert (parsed.region, parsed.trade, parsed.industry, parsed.form) == parts


@pytest.mark.parametrize(("name", "parent", "label"), [
    ("中国电信股份有限公司北京分公司", "中国电信股份有限公司", "北京"),
    ("优刻得科技股份有限公司（上海）分公司", "优刻得科技股份有限公司", "上海"),
    ("阿里云计算有限公司分公司", "阿里云计算有限公司", ""),
    ("北京金山云网络技术上海分公司", "北京金山云网络技术", "上海"),
    ("网宿科技股份有限公司深圳营业部", "网宿科技股份有限公司", "深圳"),
])
def test_split_branch_finds_parent_and_label(name: str, parent: str, label: str) -> None:
    branch = split_branch(name)
    assert branch is not None and (branch.parent, branch.label) == (parent, label)


@pytest.mark.parametrize("name", ["北京分公司", "北京金山云网络技术有限公司", "分公司"])
def test_split_branch_none_without_a_parent(name: str) -> None:
    assert split_branch(name) is None


# -------------------------------------------------------------------------------------- link methods

def test_valid_uscc_links_even_when_the_name_changed() -> None:
    row = link_one("北京金山云科技有限公司", KSYUN_USCC.lower())
    assert (row["operator_id"], row["status"], row["method"], row["score"]) == ("ksyun", "linked", "uscc", 100.0)


def test_invalid_uscc_falls_through_to_names_and_is_flagged() -> None:
    row = link_one("北京金山云网络技术有限公司", KSYUN_USCC[:-1] + "0")
    assert (row["operator_id"], row["method"]) == ("ksyun", "name_exact")
    assert row["evidence"]["uscc_invalid"] is True


def test_name_link_with_another_valid_uscc_goes_to_review() -> None:
    row = link_one("北京金山云网络技术有限公司", OTHER_USCC)
    assert (row["operator_id"], row["status"]) == ("ksyun", "review")
    assert row["evidence"]["reason"] == "uscc_conflict"


def test_near_miss_with_another_valid_uscc_is_none() -> None:
    assert link_one("北京金山去网络技术有限公司")["status"] == "review"
    row = link_one("北京金山去网络技术有限公司", OTHER_USCC)
    assert (row["status"], row["operator_id"]) == ("none", None)
    assert row["evidence"]["reason"] == "uscc_differs" and row["evidence"]["candidate"] == "ksyun"


def test_exact_name_after_key_normalisation() -> None:
    row = link_one(" 北京金山雲網絡技術有限責任公司 ")
    assert (row["operator_id"], row["status"], row["method"]) == ("ksyun", "linked", "name_exact")


@pytest.mark.parametrize("name", ["阿里云计算有限公司杭州分公司", "阿里云计算有限公司（杭州）分公司",
                                  "阿里云北京分公司"])
def test_branch_links_to_parent(name: str) -> None:
    row = link_one(name)
    assert (row["operator_id"], row["status"], row["method"], row["is_branch"]) == ("aliyun", "linked", "branch", True)


@pytest.mark.parametrize(("name", "operator_id"), [("阿里云", "aliyun"), ("ＵＣｌｏｕｄ", "ucloud"),
                                                   ("阿里巴巴云计算（北京）有限公司", "aliyun")])
def test_alias_and_former_name(name: str, operator_id: str) -> None:
    row = link_one(name)
    assert (row["operator_id"], row["status"], row["method"]) == (operator_id, "linked", "alias")


def test_alias_shared_by_two_operators_is_review() -> None:
    ops = operators()
    ops.loc[3, "aliases"] = "阿里云"
    row = link_one("阿里云", ops=ops)
    assert row["status"] == "review"
    assert row["evidence"]["candidates"] == ["aliyun", "wangsu"]


def test_fuzzy_links_region_written_in_brackets() -> None:
    row = link_one("金山云（北京）网络技术有限公司")
    assert (row["operator_id"], row["status"], row["method"]) == ("ksyun", "linked", "fuzzy")
    assert 0 < row["score"] < 100


@pytest.mark.parametrize(("name", "reason"), [
    ("北京金山去网络技术有限公司", "trade_name_one_char"),
    ("网宿科技有限公司", "legal_form_differs"),
    ("上海网宿科技股份有限公司", "region_missing"),
])
def test_near_misses_go_to_review_with_the_candidate(name: str, reason: str) -> None:
    row = link_one(name)
    assert row["status"] == "review" and row["operator_id"] is not None
    assert row["evidence"]["reason"] == reason


@pytest.mark.parametrize(("name", "reason"), [
    ("上海金山云网络技术有限公司", "region_differs"),  # differs only in region: another company
    ("北京金山云数据科技有限公司", "industry_differs"),
    ("北京金山云科技有限公司", None),  # 云科技 is read as the industry: trade 金山 ≠ 金山云, still none
    ("北京金河水网络技术有限公司", None),
    ("北京随便科技有限公司", None),
])
def test_different_companies_are_not_linked(name: str, reason: str | None) -> None:
    row = link_one(name)
    assert (row["status"], row["operator_id"], row["method"], row["score"]) == ("none", None, None, 0.0)
    if reason:
        assert row["evidence"]["reason"] == reason


def test_identical_operator_names_are_ambiguous() -> None:
    ops = pd.concat([operators(), pd.DataFrame({"operator_id": ["dup"], "name": ["阿里云计算有限公司"],
                                                "uscc": [None], "aliases": [None]})], ignore_index=True)
    assert link_one("阿里云计算有限公司", ops=ops)["status"] == "review"


def test_one_row_per_record_in_input_order_with_all_columns() -> None:
    names = ["阿里云", "随便科技有限公司", "阿里云", "网宿科技有限公司"]
    records = pd.DataFrame({"record_id": ["d", "c", "b", "a"], "name": names, "uscc": [None, "", None, "x"]})
    links = link_records(operators(), records)
    assert list(links.columns) == ["record_id", "operator_id", "status", "method", "score", "is_branch", "evidence"]
    assert links["record_id"].tolist() == ["d", "c", "b", "a"]
    assert links["status"].tolist() == ["linked", "none", "linked", "review"]
    assert links.loc[1, "operator_id"] is None and links["score"].between(0, 100).all()


def test_blocking_caps_candidates() -> None:
    regions = sorted(set(REGIONS.values()))[:200]  # one trade name registered in 200 regions
    many = pd.DataFrame({"operator_id": regions, "name": [f"{r}宏达科技有限公司" for r in regions],
                         "uscc": None, "aliases": None})
    index = build_index(many)
    candidates, capped = index.candidates(parse_name(f"{regions[0]}宏达科技有限公司"))
    assert len(candidates) == MAX_CANDIDATES and capped
    assert link_one(f"{regions[0]}宏达科技有限公司", ops=many)["operator_id"] == regions[0]  # exact still wins


# -------------------------------------------------------------------------------------- judgements

def judged(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame([("r1", op, j) for op, j in rows], columns=["record_id", "operator_id", "judgement"])


def test_positive_judgement_wins() -> None:
    row = link_one("随便科技有限公司", judgements=judged(("wangsu", "positive")))
    assert (row["operator_id"], row["status"], row["method"]) == ("wangsu", "linked", "analyst")


def test_negative_judgement_falls_back_to_next_candidate() -> None:
    ops = operators()
    ops.loc[3, "aliases"] = "金山云"  # ksyun and wangsu share the alias; the analyst rules ksyun out
    assert link_one("金山云", ops=ops)["status"] == "review"
    row = link_one("金山云", ops=ops, judgements=judged(("ksyun", "negative")))
    assert (row["operator_id"], row["status"], row["method"]) == ("wangsu", "linked", "alias")


def test_negative_judgement_blocks_even_a_uscc_link() -> None:
    row = link_one("北京随便科技有限公司", KSYUN_USCC, judgements=judged(("ksyun", "negative")))
    assert row["status"] == "none"


def test_unsure_judgement_sends_to_review() -> None:
    row = link_one("北京金山云网络技术有限公司", judgements=judged(("ksyun", "unsure")))
    assert (row["operator_id"], row["status"], row["method"]) == ("ksyun", "review", "analyst")


@pytest.mark.parametrize(("rows", "message"), [
    ((("ksyun", "maybe"),), "not one of"),
    ((("nobody", "positive"),), "unknown operator_id"),
    ((("ksyun", "positive"), ("ksyun", "negative")), "both positive and negative"),
    ((("ksyun", "positive"), ("wangsu", "positive")), "already judged positive"),
])
def test_bad_judgements_are_rejected(rows: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(LinkInputError, match=message):
        link_one("阿里云", judgements=judged(*rows))


# -------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(("change", "message"), [
    (lambda ops: ops.drop(columns="aliases"), "missing column"),
    (lambda ops: ops.assign(name=["", *ops["name"][1:]]), "row 1 .*empty name"),
    (lambda ops: ops.assign(operator_id=["a", "b", "a", "c"]), "row 3 .*duplicate operator_id"),
    (lambda ops: ops.assign(uscc=["91110108701007919X", None, None, None]), "row 1 .*invalid USCC"),
])
def test_bad_operators_raise(change, message: str) -> None:  # type: ignore[no-untyped-def]
    records = pd.DataFrame({"record_id": ["r1"], "name": ["阿里云"], "uscc": [None]})
    with pytest.raises(LinkInputError, match=message):
        link_records(change(operators()), records)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


OPS_CSV = "operator_id,name,uscc,aliases\nksyun,北京金山云网络技术有限公司,91110108701007919F,金山云|Kingsoft\n" \
          "aliyun,阿里云计算有限公司,,阿里云\n"


def test_link_csv_files_writes_one_row_per_record(tmp_path: Path) -> None:
    ops = write(tmp_path / "OPS.csv", OPS_CSV)
    recs = write(tmp_path / "RECS.csv", 'record_id,name,uscc\n1,阿里云,\n2,"金山云（北京）网络技术有限公司",123\n'
                                        "3,上海金山云网络技术有限公司,\n4,北京金山去网络技术有限公司,\n")
    counts = link_csv_files(ops, recs, tmp_path / "out" / "LINKS.csv")
    assert counts == {"linked": 2, "review": 1, "none": 1}
    links = pd.read_csv(tmp_path / "out" / "LINKS.csv", dtype=str, keep_default_na=False)
    assert list(links.columns) == ["record_id", "operator_id", "status", "method", "score"]
    assert links.values.tolist() == [["1", "aliyun", "linked", "alias", "100.0"],
                                     ["2", "ksyun", "linked", "fuzzy", links.loc[1, "score"]],
                                     ["3", "", "none", "", "0.0"],
                                     ["4", "ksyun", "review", "fuzzy", links.loc[3, "score"]]]


@pytest.mark.parametrize(("ops_text", "recs_text", "where"), [
    (OPS_CSV, "record_id,name\n1,阿里云\n", "RECS.csv: line 1: missing column"),
    (OPS_CSV, "record_id,name,uscc\n1,阿里云,\n2,  ,\n", "RECS.csv: line 3 .*empty name"),
    (OPS_CSV, 'record_id,name,uscc\n1,"阿里\n云",\n1,阿里云,\n',
     "RECS.csv: line 4: duplicate record_id '1' \\(first at line 2"),
    (OPS_CSV + "ksyun,优刻得科技股份有限公司,,\n", "record_id,name,uscc\n1,阿里云,\n",
     "OPS.csv: line 4 .*duplicate operator_id"),
    (OPS_CSV, "record_id,name,uscc\n1,阿里云,,extra\n", "RECS.csv: line 2: 4 fields"),
])
def test_link_csv_files_names_file_and_line(tmp_path: Path, ops_text: str, recs_text: str, where: str) -> None:
    ops, recs = write(tmp_path / "OPS.csv", ops_text), write(tmp_path / "RECS.csv", recs_text)
    with pytest.raises(LinkInputError, match=where):
        link_csv_files(ops, recs, tmp_path / "LINKS.csv")
    assert not (tmp_path / "LINKS.csv").exists()


def test_link_csv_files_reads_gb18030_like_ingest(tmp_path: Path) -> None:
    ops = write(tmp_path / "OPS.csv", OPS_CSV)
    recs = write(tmp_path / "RECS.csv", "record_id,name,uscc\n1,阿里云,\n2,华为技术有限公司,\n", encoding="gb18030")
    utf8 = write(tmp_path / "RECS8.csv", "record_id,name,uscc\n1,阿里云,\n2,华为技术有限公司,\n")
    assert link_csv_files(ops, recs, tmp_path / "a.csv") == link_csv_files(ops, utf8, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_link_csv_files_streams_in_batches_with_the_same_answer(tmp_path: Path, monkeypatch) -> None:
    """Issue 18: RECS.csv is read and linked in batches (a file of any size); the output is the one-batch
    output, a duplicate id in a later batch is named with both lines, and a bad line leaves no output."""
    import transforms.link.files as files

    ops = write(tmp_path / "OPS.csv", OPS_CSV)
    names = ["阿里云", "金山云（北京）网络技术有限公司", "上海金山云网络技术有限公司", "北京金山去网络技术有限公司"]
    rows = "".join(f"{n},{name},\n" for n, name in enumerate(names * 3, 1))
    recs = write(tmp_path / "RECS.csv", "record_id,name,uscc\n" + rows)
    whole = link_csv_files(ops, recs, tmp_path / "whole.csv")
    monkeypatch.setattr(files, "BATCH_ROWS", 5)
    assert [len(lines) for _, lines in files.iter_table(recs, ("record_id", "name", "uscc"), files.BATCH_ROWS)] \
        == [5, 5, 2]
    batches = []
    real = files.link_validated
    monkeypatch.setattr(files, "link_validated",
                        lambda index, batch: batches.append(len(batch.ids)) or real(index, batch))
    assert link_csv_files(ops, recs, tmp_path / "batched.csv") == whole
    assert batches == [5, 5, 2]  # linked batch by batch
    assert (tmp_path / "batched.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    twice = write(tmp_path / "TWICE.csv", "record_id,name,uscc\n" + rows + "3,阿里云,\n")  # batch 3 repeats batch 1
    with pytest.raises(LinkInputError, match=r"TWICE.csv: line 14: duplicate record_id '3' \(first at line 4\)"):
        link_csv_files(ops, twice, tmp_path / "twice.csv")
    assert not (tmp_path / "twice.csv").exists()


# ------------------------------------------------------------------------------------------ properties

_NAME_CHARS = st.sampled_from(list("北京上海金山云网络技术科技有限公司分（）() 　華為雲ＡBc-·"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(_NAME_CHARS, min_size=1, max_size=20).filter(lambda s: s.strip(" 　()（）-·")),
                min_size=1, max_size=8))
def test_any_names_give_one_consistent_row_each(names: list[str]) -> None:
    records = pd.DataFrame({"record_id": [str(i) for i in range(len(names))], "name": names, "uscc": None})
    try:
        links = link_records(operators(), records)
    except LinkInputError as error:  # only a name that normalises to nothing may be refused
        assert "empty name" in str(error)
        return
    assert len(links) == len(names)
    assert set(links["status"]) <= {"linked", "review", "none"}
    assert (links["operator_id"].isna() == (links["status"] == "none")).all()
    assert links["score"].between(0, 100).all()
    again = link_records(operators(), records.iloc[::-1])  # a name's decision does not depend on its neighbours
    assert again.set_index("record_id").loc[links["record_id"], "operator_id"].fillna("").tolist() == \
        links["operator_id"].fillna("").tolist()
