"""Labelled evaluation of the record → operator linker: precision and recall per name variant.

Two sets: tests/data/link_eval/ (hand-written, real-world-shaped hard cases) and a seeded generator of
operators with every variant of their names and hard negatives. Print the tables with
`.venv/bin/python -m tests.test_link_eval`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import opencc
import pandas as pd
import pytest
from rapidfuzz import process
from rapidfuzz.distance import OSA
from stdnum.cn import uscc as stdnum_uscc

from transforms.link import link_records
from transforms.link.vocab import INDUSTRIES, REGIONS

DATA = Path(__file__).parent / "data" / "link_eval"
SEED = 20261123
N_OPERATORS = 300

# Trade-name characters that neither start a region nor occur in an industry word, so the generated
# names split the way they were built (the parser's own hard cases are in the hand-written set).
_COMMON = ("瑞祥泰鑫华达恒盛宏昌嘉博睿星辰易航腾联锐智远宇凯越德丰隆源亿卓新之明光辉煌佳美优品诚创聚汇润"
           "和顺利兴旺发福康乐欣悦佰仟万众合力飞鸿鹏龙凤麒麟金银玉宝富贵荣耀锦绣峰岭川泽江河湖")
_BLOCKED = {r[0] for r in REGIONS} | {c for word in INDUSTRIES for c in word}
TRADE_CHARS = "".join(dict.fromkeys(c for c in _COMMON if c not in _BLOCKED))
EVAL_REGIONS = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "天津")
EVAL_INDUSTRIES = ("科技", "网络科技", "信息技术", "数据科技", "云计算", "通信技术", "计算机系统", "网络技术")
BRANCH_CITIES = ("上海", "广州", "成都", "重庆", "郑州")


@dataclass(frozen=True)
class Op:
    operator_id: str
    region: str
    trade: str
    industry: str
    form: str
    uscc: str

    @property
    def name(self) -> str:
        return f"{self.region}{self.trade}{self.industry}{self.form}"


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _uscc(number: int) -> str:
    body = f"91310115{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def _far_from(trade: str, trades: list[str]) -> bool:
    """No operator trade name within one edit or swap (so the label "none" is unambiguous)."""
    hit = process.extractOne(trade, trades, scorer=OSA.distance, score_cutoff=1)
    return hit is None


def generate(seed: int = SEED, n_operators: int = N_OPERATORS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(operators, labelled records) — records carry expected_operator, expected_status, variant."""
    rng = random.Random(seed)
    ops: list[Op] = []
    trades: set[str] = set()
    while len(ops) < n_operators:
        trade = "".join(rng.choice(TRADE_CHARS) for _ in range(rng.choice((2, 3, 3, 4, 4))))
        if trade in trades:
            continue
        trades.add(trade)
        region = rng.choice(EVAL_REGIONS) if rng.random() < 0.75 else ""
        form = rng.choice(("有限公司", "有限公司", "股份有限公司"))
        ops.append(Op(f"op{len(ops):04d}", region, trade, rng.choice(EVAL_INDUSTRIES), form, _uscc(len(ops))))
    trade_list = sorted(trades)
    parts = {(o.region, o.trade, o.industry) for o in ops}
    aliases: dict[str, list[str]] = {o.operator_id: [o.trade + "云"] for o in ops}
    rows: list[tuple[str, str, str, str, str]] = []  # name, uscc, expected_operator, expected_status, variant

    def add(name: str, op: Op | None, status: str, variant: str, uscc: str = "") -> None:
        rows.append((name, uscc, op.operator_id if op else "", status, variant))

    def new_trade(length: int) -> str:
        while True:
            trade = "".join(rng.choice(TRADE_CHARS) for _ in range(length))
            if _far_from(trade, trade_list):
                return trade

    def alone(trade: str, owner: Op) -> bool:
        """No other operator's trade name within one edit: the variant's label cannot be ambiguous."""
        return _far_from(trade, [t for t in trade_list if t != owner.trade])

    for number, op in enumerate(ops):
        core = f"{op.trade}{op.industry}"
        crowded = not alone(op.trade, op)  # another operator is a near miss of this one: skip near variants
        add(op.name, op, "linked", "exact")
        add(_s2t().convert(op.name), op, "linked", "traditional")
        add(f"{op.region}　{op.trade} {op.industry}{op.form}", op, "linked", "fullwidth_space")
        if op.region:
            add(f"{op.trade}（{op.region}）{op.industry}{op.form}", op, "linked", "region_bracket")
            add(f"{op.region}市{core}{op.form}", op, "linked", "region_suffix")
            other = rng.choice([r for r in EVAL_REGIONS if r != op.region])
            if (other, op.trade, op.industry) not in parts and not crowded:
                add(f"{other}{core}{op.form}", None, "none", "region_only")
            add(f"{core}{op.form}", op, "review", "region_missing")
        else:
            add(f"{rng.choice(EVAL_REGIONS)}{core}{op.form}", op, "review", "region_missing")
        if op.form == "有限公司":
            add(f"{op.region}{core}有限责任公司", op, "linked", "form_llc")
        other_form = "股份有限公司" if op.form == "有限公司" else "有限公司"
        add(f"{op.region}{core}{other_form}", op, "review", "legal_form")
        city = rng.choice(BRANCH_CITIES)
        add(f"{op.name}{city}分公司", op, "linked", "branch")
        add(f"{op.name}（{city}）分公司", op, "linked", "branch_bracket")
        add(f"{op.name}分公司", op, "linked", "branch_plain")
        add(f"{op.region}{core}{city}分公司", op, "linked", "branch_no_form")
        add(f"{op.trade}云", op, "linked", "alias_brand")
        former = f"{rng.choice(EVAL_REGIONS)}{op.trade}{rng.choice(('实业', '贸易'))}有限公司"
        aliases[op.operator_id].append(former)
        add(former, op, "linked", "alias_former_name")
        add(f"{new_trade(4)}商贸有限公司", op, "linked", "uscc", op.uscc)
        broken = op.uscc[:-1] + ("0" if op.uscc[-1] != "0" else "1")
        add(op.name, op, "linked", "invalid_uscc", broken)
        # One-character slip and a swap in the trade name: a person should look.
        position = rng.randrange(len(op.trade))
        slip = op.trade[:position] + rng.choice([c for c in TRADE_CHARS if c != op.trade[position]]) \
            + op.trade[position + 1:]
        if slip not in trades and alone(slip, op):
            add(f"{op.region}{slip}{op.industry}{op.form}", op, "review", "one_char_slip")
        swapped = op.trade[1] + op.trade[0] + op.trade[2:]
        if swapped != op.trade and alone(swapped, op):
            add(f"{op.region}{swapped}{op.industry}{op.form}", op, "review", "swap")
        # Hard negatives: another trade name, the same trade name in another industry, an unrelated firm.
        add(f"{op.region}{new_trade(len(op.trade) + 1)}{op.industry}{op.form}", None, "none", "trade_differs")
        industry = rng.choice([i for i in EVAL_INDUSTRIES if OSA.distance(i, op.industry) >= 2])
        if (op.region, op.trade, industry) not in parts and not crowded:
            add(f"{op.region}{op.trade}{industry}{op.form}", None, "none", "industry_differs")
        add(f"{rng.choice(EVAL_REGIONS)}{new_trade(3)}{op.industry}有限公司", None, "none", "unrelated")
        if number % 10 == 0 and number + 1 < len(ops):  # an alias two operators share
            shared = f"{op.trade}{ops[number + 1].trade}联盟"
            aliases[op.operator_id].append(shared)
            aliases[ops[number + 1].operator_id].append(shared)
            add(shared, None, "review", "ambiguous_alias")

    operators = pd.DataFrame({
        "operator_id": [o.operator_id for o in ops], "name": [o.name for o in ops],
        "uscc": [o.uscc for o in ops], "aliases": ["|".join(aliases[o.operator_id]) for o in ops]})
    records = pd.DataFrame(rows, columns=["name", "uscc", "expected_operator", "expected_status", "variant"])
    records.insert(0, "record_id", [f"g{i:05d}" for i in range(len(records))])
    return operators, records


def load_handwritten() -> tuple[pd.DataFrame, pd.DataFrame]:
    read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
    return pd.read_csv(DATA / "operators.csv", **read), pd.read_csv(DATA / "records.csv", **read)


def evaluate(operators: pd.DataFrame, labelled: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-record outcomes, per-variant table of n / precision / recall / status counts).

    precision: of the records linked, the share linked to the expected operator; recall: of the records
    whose expected status is S, the share given S (and, for linked/review, the expected operator when named).
    """
    links = link_records(operators, labelled[["record_id", "name", "uscc"]])
    out = labelled.merge(links, on="record_id", validate="one_to_one")
    same_op = (out["expected_operator"] == "") | (out["operator_id"].fillna("") == out["expected_operator"])
    out["correct"] = (out["status"] == out["expected_status"]) & (same_op | (out["expected_status"] == "none"))
    out["true_link"] = (out["status"] == "linked") & (out["expected_status"] == "linked") & same_op
    table = out.groupby("variant").agg(
        n=("record_id", "size"), expected=("expected_status", "first"),
        linked=("status", lambda s: int((s == "linked").sum())),
        review=("status", lambda s: int((s == "review").sum())),
        none=("status", lambda s: int((s == "none").sum())),
        true_links=("true_link", "sum"), recall=("correct", "mean"))
    table["precision"] = (table["true_links"] / table["linked"]).where(table["linked"] > 0)
    return out, table.drop(columns="true_links")


def _link_precision(out: pd.DataFrame) -> float:
    linked = out[out["status"] == "linked"]
    return float(linked["true_link"].mean())


def _recall(out: pd.DataFrame, status: str) -> float:
    return float(out[out["expected_status"] == status]["correct"].mean())


@pytest.fixture(scope="module")
def generated() -> tuple[pd.DataFrame, pd.DataFrame]:
    operators, labelled = generate()
    return evaluate(operators, labelled)


def test_generated_set_covers_every_variant(generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, table = generated
    expected = {"exact", "traditional", "fullwidth_space", "region_bracket", "region_suffix", "region_only",
                "region_missing", "form_llc", "legal_form", "branch", "branch_bracket", "branch_plain",
                "branch_no_form", "alias_brand", "alias_former_name", "uscc", "invalid_uscc", "one_char_slip",
                "swap", "trade_differs", "industry_differs", "unrelated", "ambiguous_alias"}
    assert expected <= set(table.index)
    assert (table["n"] >= 25).all(), table[table["n"] < 25]


def test_generated_precision_and_recall_floors(generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    out, table = generated
    assert _link_precision(out) >= 0.995, table
    assert _recall(out, "linked") >= 0.99, table
    assert _recall(out, "none") >= 0.99, table


def test_generated_near_misses_go_to_review_never_linked(generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    out, _ = generated
    near = out[out["variant"].isin(["one_char_slip", "swap", "legal_form", "region_missing", "ambiguous_alias"])]
    assert not (near["status"] == "linked").any(), near[near["status"] == "linked"][["name", "operator_id"]]
    assert (near["status"] == "review").mean() >= 0.99
    slips = near[near["variant"] == "one_char_slip"]
    assert (slips["operator_id"] == slips["expected_operator"]).all()


def test_generated_hard_negatives_are_never_linked(generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    out, _ = generated
    negatives = out[out["variant"].isin(["region_only", "trade_differs", "industry_differs", "unrelated"])]
    assert not (negatives["status"] == "linked").any(), negatives[negatives["status"] == "linked"]


def test_generated_evidence_flags_invalid_uscc_and_branches(generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    out, _ = generated
    invalid = out[out["variant"] == "invalid_uscc"]
    assert invalid["evidence"].str.contains('"uscc_invalid": true').all()
    branches = out[out["variant"].str.startswith("branch")]
    assert branches["is_branch"].all() and (branches["method"] == "branch").all()
    assert not out[out["variant"] == "exact"]["is_branch"].any()


def test_handwritten_cases_all_decided_as_labelled() -> None:
    operators, labelled = load_handwritten()
    out, _ = evaluate(operators, labelled)
    wrong = out[~out["correct"]]
    assert wrong.empty, wrong[["record_id", "name", "expected_status", "status", "operator_id", "evidence"]]


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    for title, (ops_frame, labelled_frame) in (("generated", generate()), ("hand-written", load_handwritten())):
        outcome, per_variant = evaluate(ops_frame, labelled_frame)
        print(f"\n== {title}: {len(outcome)} records, link precision {_link_precision(outcome):.4f}, "
              f"recall linked {_recall(outcome, 'linked'):.4f} / review {_recall(outcome, 'review'):.4f} "
              f"/ none {_recall(outcome, 'none'):.4f}")
        print(per_variant.round(4).to_string())
