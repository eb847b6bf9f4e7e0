"""信用中国 行政处罚 on the replica: this source's share of the world, its rows and its ground truth.

The site itself (routes, envelope, session refusal and captcha, the entity search, unknown paths) is the
platform's: spiders/platforms/creditchina_replica.py. This module registers what it publishes there:
  - typeSourceSearch `type=行政管理` (§7.1, what current clients ask): the entity's penalties (table
    `credit_xyzx_fr_xzcf_new`, some also in a year table `credit_xyzx_fr_xzcf_<year>`) and its telecom
    licences as 行政许可 rows (`credit_xyzx_fr_xzxk_new`, §1.2), which a reader must filter out (§7.1: "filters
    xzcf/xzxk"); `type=行政处罚` (§1.2, older clients, [idx 20680803231]): the penalties alone;
  - typeNameAndCountSearch `type=行政处罚`: COMPANIES with their penalty count {name, count, tyshxydm, zzjgdm,
    entity_type} (§7.1, [idx 48896476225]), never penalty rows: the request the first spider made yields none;
  - the subjects of its penalties, so each is an entity of the entity search.

A penalty row (§1.2 "Category records", columns of §1.4 in snake case as `crawler.py` reads them):
{table_name, entity:{cf_wsh, cf_cfmc, cf_xdr_mc, cf_xdr_shxym, cf_fr, cf_cflb1, cf_jg, cf_sy, cf_yj, cf_nr_fk,
cf_cfjg, cf_cfjgdm, cf_jdrq, cf_qx, cf_sjc, recid}, columnList, sencesMap:{column: 中文label}, dataSource,
data_catalog}. The replica's guesses: the labels (crawler.py's own, not a capture); cf_sjc carries the
publication date; the fine is `cf_nr_fk` with its unit in the label, 罚款金额(万元) (the 2021 template, §1.4) or
罚款金额(元) (older feeds); data_catalog 行政处罚 / 行政许可 ([idx 20538613171] reads that key).

Site faults (deterministic, on by default, recoverable by a correct crawler):
  - duplicates across tables: about one penalty in four is listed twice, from `credit_xyzx_fr_xzcf_new` and its
    year table; both copies count in `total`;
  - paging that shifts: one subject was fined often enough for its listing to run over two pages (pageSize
    10); its newest penalty is published while the crawl runs (the platform's `late` rows);
  - the fine's unit travels in the label (万元 or 元), and two penalties are published malformed (an impossible
    date, "待定" as the amount): a crawl must quarantine them.
Between the two crawls (epoch 1) two penalties are repaired (gone) and one is new.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from replica.world import REGIONS, Penalty, Subject, World, render_date
from spiders.platforms import creditchina_replica as cc
from spiders.platforms.creditchina_replica import HOST, ROUTES, not_found  # noqa: F401 (the site this source is on)

SOURCE = "creditchina_penalties"
ADMINISTRATION = "行政管理"  # §7.1: penalties and licences in one category
PENALTIES = "行政处罚"  # §1.2: penalties alone (older clients)
TABLE_NEW = "credit_xyzx_fr_xzcf_new"
LICENCE_TABLE = "credit_xyzx_fr_xzxk_new"
HEAVY_EXTRA = 11  # penalties added to one subject so its listing runs over two pages of 10
LABELS = {
    "cf_wsh": "行政处罚决定书文号", "cf_cfmc": "处罚名称", "cf_xdr_mc": "行政相对人名称",
    "cf_xdr_shxym": "统一社会信用代码", "cf_fr": "法定代表人", "cf_cflb1": "处罚类别", "cf_jg": "处罚内容",
    "cf_sy": "违法事实", "cf_yj": "处罚依据", "cf_cfjg": "处罚机关", "cf_cfjgdm": "处罚机关统一社会信用代码",
    "cf_jdrq": "处罚决定日期", "cf_qx": "处罚期限", "cf_sjc": "数据更新时间",
}
LICENCE_LABELS = {  # crawler.py `_permissions` (§1.2 "Licence columns")
    "xk_wsh": "行政许可决定书文号", "xk_xmmc": "许可项目名称", "xk_splb": "审核类型", "xk_nr": "许可内容",
    "xk_jdrq": "许可决定日期", "xk_jzq": "许可截止日期", "xk_xzjg": "许可机关", "xk_xdr": "行政相对人名称",
    "xk_xdr_shxym": "统一社会信用代码", "xk_sjc": "数据更新时间",
}


# -- its share of the world ---------------------------------------------------------------------------------
def heavy_subject(world: World) -> Subject:
    """The subject the regulators fined again and again: the first company published with a code."""
    return next(s for s in world.subjects if s.kind == "company" and s.uscc)


def populate(world: World, rng: random.Random) -> None:
    """信用中国 penalties: telecom regulators' (通信管理局) decisions against the world's subjects; two are
    published malformed (a crawl must quarantine them); between the crawls two are repaired (gone), one new."""
    penalties = world.family("penalties")

    def make(subject: Subject, n: int, decided: date | None = None) -> Penalty:
        decided = decided or world.today - timedelta(days=rng.randint(5, 365 * 3))
        region = rng.choice(list(REGIONS))
        number = f"{REGIONS[region][0]}通管罚〔{decided.year}〕{n + 1}号"
        return world.penalty(rng, subject, "creditchina", REGIONS[region][2], region, "telecom", number, decided)

    mine: list[Penalty] = []
    for subject in world.subjects:
        for _ in range(rng.choice([0, 1, 1])):
            mine.append(make(subject, len(mine)))
    heavy = heavy_subject(world)
    for _ in range(HEAVY_EXTRA):
        mine.append(make(heavy, len(mine)))
    mine[3].malformed = "decided_on: impossible date"
    mine[5].malformed = "fine_yuan: amount is not a number"
    mine[0].epoch_removed = 1
    mine[1].epoch_removed = 1
    # Published the week after: the heavy subject's newest decision.
    late = make(heavy, len(mine), decided=world.today - timedelta(days=1))
    late.epoch_added = 1
    mine.append(late)
    penalties.extend(mine)


def mine(world: World, epoch: int | None = None) -> list[Penalty]:
    """This source's penalties: all of them, or those published at `epoch`."""
    pool = world.penalties if epoch is None else world.at(epoch)["penalties"]
    return [p for p in pool if p.platform == "creditchina"]


# -- rendering ----------------------------------------------------------------------------------------------
def impossible_date(day: date, style: str) -> str:
    """30 February of the record's year, in its style (epoch milliseconds cannot be impossible: iso)."""
    return {"cn": f"{day.year}年2月30日", "slash": f"{day.year}/2/30", "compact": f"{day.year}0230"}.get(
        style, f"{day.year}-02-30")


def _plain(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def fine_cell(penalty: Penalty) -> tuple[str, str]:
    """(value, label) of the fine column: 万元 or 元 as the record publishes it; 待定 when malformed."""
    label = "罚款金额(万元)" if penalty.amount_in_wan else "罚款金额(元)"
    if penalty.malformed and penalty.malformed.startswith("fine_yuan"):
        return "待定", label
    if penalty.fine_yuan is None:
        return "", label
    return (_plain(penalty.fine_yuan / 10000) if penalty.amount_in_wan else _plain(penalty.fine_yuan)), label


def _recid(key: str) -> str:
    return hashlib.md5(key.encode()).hexdigest().upper()  # noqa: S324 (an id, not security)


def penalty_row(penalty: Penalty, table_name: str = TABLE_NEW) -> dict:
    """One typeSourceSearch `data.list` row for a penalty, field for field."""
    subject = penalty.subject
    decided: str | int = render_date(penalty.decided_on, penalty.date_style)
    if penalty.malformed and penalty.malformed.startswith("decided_on"):
        decided = impossible_date(penalty.decided_on, penalty.date_style)
    fine, fine_label = fine_cell(penalty)
    entity = {
        "cf_wsh": penalty.decision_no,
        "cf_cfmc": "行政处罚决定书",
        "cf_xdr_mc": subject.name,
        "cf_xdr_shxym": subject.uscc or "",
        "cf_fr": subject.person_name or "",
        "cf_cflb1": penalty.kinds_text,
        "cf_jg": penalty.content,
        "cf_sy": penalty.facts,
        "cf_yj": penalty.basis,
        "cf_nr_fk": fine,
        "cf_cfjg": penalty.authority,
        "cf_cfjgdm": penalty.authority_code,
        "cf_jdrq": decided,
        "cf_qx": "",
        "cf_sjc": render_date(penalty.published_on, penalty.date_style),
        "recid": _recid(penalty.decision_no),
    }
    labels = LABELS | {"cf_nr_fk": fine_label}
    return {"table_name": table_name, "entity": entity, "columnList": [c for c in entity if c in labels],
            "sencesMap": labels, "dataSource": penalty.authority, "data_catalog": "行政处罚"}


def is_twin(penalty: Penalty) -> bool:
    """Penalties the site indexes twice (new table and year table): about one in four, by decision number."""
    return int(hashlib.sha256(penalty.decision_no.encode()).hexdigest()[:4], 16) % 4 == 0


def late_penalty(world: World, epoch: int) -> Penalty:
    """The penalty published while a crawl runs: the heavy subject's newest one at `epoch`."""
    heavy = heavy_subject(world)
    return max((p for p in mine(world, epoch) if p.subject is heavy),
               key=lambda p: (p.published_on, p.decision_no))


def penalty_rows(world: World, epoch: int, entity: cc.Entity) -> list[cc.Row]:
    """An entity's penalty rows at `epoch`, newest first, twins in both tables, the late one marked."""
    late = late_penalty(world, epoch)
    own = [p for p in mine(world, epoch) if cc.publishes_under(entity, p.subject.name, p.subject.uscc)]
    own.sort(key=lambda p: (-p.published_on.toordinal(), p.decision_no))
    rows = []
    for p in own:
        tables = [TABLE_NEW] + ([f"credit_xyzx_fr_xzcf_{p.decided_on.year}"] if is_twin(p) else [])
        rows += [cc.Row(penalty_row(p, t), p.published_on, p.decision_no if p is late else None) for t in tables]
    return rows


def licence_rows(world: World, epoch: int, entity: cc.Entity) -> list[cc.Row]:
    """The entity's telecom licences as 行政许可 rows (xzxk): what a penalty reader must leave out."""
    rows = []
    for company in world.companies:
        if not entity.code or company.uscc != entity.code:
            continue
        for lic in company.licences:
            issued, expires = lic.business_types[0].issued_on, lic.business_types[0].expires_on
            data = {"xk_wsh": lic.licence_no, "xk_xmmc": "电信业务经营许可", "xk_splb": "普通",
                    "xk_nr": "；".join(b.label for b in lic.business_types), "xk_jdrq": issued.isoformat(),
                    "xk_jzq": expires.isoformat(), "xk_xzjg": lic.issuer, "xk_xdr": company.name,
                    "xk_xdr_shxym": company.uscc, "xk_sjc": issued.isoformat(), "recid": _recid(lic.lic_id)}
            rows.append(cc.Row({"table_name": LICENCE_TABLE, "entity": data, "columnList": list(LICENCE_LABELS),
                                "sencesMap": LICENCE_LABELS, "dataSource": lic.issuer, "data_catalog": "行政许可"},
                               issued))
    return rows


# -- what it publishes on the platform ------------------------------------------------------------------------
@cc.subjects
def penalised(world: World) -> Iterable[Subject]:
    return [p.subject for p in mine(world)]


@cc.category(ADMINISTRATION)
def administration(world: World, epoch: int, entity: cc.Entity) -> list[cc.Row]:
    return penalty_rows(world, epoch, entity) + licence_rows(world, epoch, entity)


@cc.category(PENALTIES)
def penalties_only(world: World, epoch: int, entity: cc.Entity) -> list[cc.Row]:
    return penalty_rows(world, epoch, entity)


@cc.site_list(PENALTIES)
def penalised_companies(world: World, epoch: int, keyword: str) -> list[dict]:
    """The first level of the old two-level flow: companies and how many penalties each has."""
    return cc.company_rows(world, epoch, keyword, lambda entity: len({
        p.decision_no for p in mine(world, epoch) if cc.publishes_under(entity, p.subject.name, p.subject.uscc)}))


def ground_truth(world: World, epoch: int = 0) -> dict[str, dict]:
    """creditchina_penalties: every creditchina-platform penalty of the epoch, keyed by 决定书文号."""
    penalties = mine(world, epoch)
    return {SOURCE: {
        "records": {p.decision_no for p in penalties if not p.malformed},
        "quarantined": {p.decision_no: p.malformed for p in penalties if p.malformed},
    }}
