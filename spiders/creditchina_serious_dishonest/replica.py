"""信用中国 严重失信主体名单 on the replica: this source's share of the world, its rows and its ground truth.

The site itself (routes, envelope, session refusal and captcha, the entity search, unknown paths) is the
platform's: spiders/platforms/creditchina_replica.py. This module registers what it publishes there:
  - typeSourceSearch `type=严重失信主体名单` (§1.2, §7.8): an entity's entries, newest first, one row each
    {table_name, entity, columnList, sencesMap, dataSource, data_catalog};
  - typeNameAndCountSearch `type=shixinheimingdan` (§1.2, §7.8): the page's list, rows {entityName, entityType,
    publishDate} (§1.2: the page reads name|entityName, type|entityType, date|publishDate; which pair the site
    sends was not confirmed: the replica sends the long names), `keyword` matching names by substring;
  - the subjects of its entries, so each is an entity of the entity search.
The replica's guesses (the reference names no column of these tables): table `credit_xyzx_fr_yzsxztmd`,
columns sx_* with the labels in LABELS; data_catalog 严重失信主体名单.

Its share of the world: three operators are on the list (one through 重大税收违法, one through 失信被执行人, one
through 严重违法失信企业), and a subject whose name contains none of the spider's default terms (a 数据中心
registered without 公司): only the site-wide list leads a crawl to it. Site faults: one entry is published with
an impossible 列入日期 (a crawl must quarantine it); between the two crawls (epoch 1) one entry is removed
(repaired) and one is added.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from replica.world import REGION_CITY, REGIONS, Subject, World
from spiders.platforms import creditchina_replica as cc
from spiders.platforms.creditchina_replica import HOST, ROUTES, not_found  # noqa: F401 (the site this source is on)

SOURCE = "creditchina_serious_dishonest"
FAMILY = "serious_dishonest"
CATEGORY = "严重失信主体名单"
SITE_LIST = "shixinheimingdan"
TABLE = "credit_xyzx_fr_yzsxztmd"
LABELS = {
    "sx_mc": "失信主体名称", "sx_shxym": "统一社会信用代码", "sx_mdlb": "名单类别", "sx_lryy": "列入原因",
    "sx_lrrq": "列入日期", "sx_wsh": "认定文书号", "sx_rdbm": "认定部门",
}
GROUNDS = [  # (名单类别, 列入原因, 认定部门)
    ("重大税收违法失信主体", "虚开增值税专用发票", "国家税务总局{city}市税务局稽查局"),
    ("失信被执行人", "有履行能力而拒不履行生效法律文书确定义务", "{city}市中级人民法院"),
    ("严重违法失信企业名单", "被列入经营异常名录届满3年仍未履行相关义务", "{city}市市场监督管理局"),
]


@dataclass
class Entry:
    """An entry of 严重失信主体名单: who, which list, why, when, by whom."""

    document_no: str  # 认定文书号: the natural key
    subject: Subject
    list_name: str
    reason: str
    listed_on: date
    authority: str
    malformed: str | None = None  # why a crawl must quarantine it
    epoch_added: int = 0
    epoch_removed: int | None = None


def populate(world: World, rng: random.Random) -> None:
    entries = world.family(FAMILY)
    companies = rng.sample(world.companies, k=4)

    def add(subject: Subject, ground: int, region: str, n: int) -> Entry:
        list_name, reason, authority = GROUNDS[ground]
        listed = world.today - timedelta(days=rng.randint(20, 700))
        entry = Entry(f"{REGIONS[region][0]}信严失〔{listed.year}〕{n + 1}号", subject, list_name, reason, listed,
                      authority.format(city=REGION_CITY[region]))
        entries.append(entry)
        return entry

    for n, company in enumerate(companies[:3]):
        add(Subject(company.name, company.uscc, "company", company.uscc), n, company.region, n)
    region = rng.choice(list(REGIONS))
    hidden = Subject(f"{REGION_CITY[region]}{''.join(rng.sample('云启星辰天翼华数', 2))}数据中心",
                     world.uscc(rng, REGIONS[region][1], "52"), "unrelated", None)
    add(hidden, 1, region, 3)
    entries[1].malformed = "listed_on: impossible date"
    entries[0].epoch_removed = 1  # repaired between the crawls
    late = add(Subject(companies[3].name, companies[3].uscc, "company", companies[3].uscc), 2, companies[3].region, 4)
    late.epoch_added = 1


def mine(world: World, epoch: int) -> list[Entry]:
    return [e for e in world.at(epoch).get(FAMILY, [])]


def entry_row(entry: Entry) -> dict:
    """One typeSourceSearch `data.list` row, field for field."""
    listed = entry.listed_on.isoformat()
    if entry.malformed:
        listed = f"{entry.listed_on.year}-02-30"
    data = {"sx_mc": entry.subject.name, "sx_shxym": entry.subject.uscc or "", "sx_mdlb": entry.list_name,
            "sx_lryy": entry.reason, "sx_lrrq": listed, "sx_wsh": entry.document_no, "sx_rdbm": entry.authority,
            "recid": hashlib.md5(entry.document_no.encode()).hexdigest().upper()}  # noqa: S324 (an id)
    return {"table_name": TABLE, "entity": data, "columnList": list(LABELS), "sencesMap": LABELS,
            "dataSource": entry.authority, "data_catalog": CATEGORY}


@cc.subjects
def listed_subjects(world: World) -> Iterable[Subject]:
    return [e.subject for e in world.families.get(FAMILY, [])]


@cc.category(CATEGORY)
def entries_of(world: World, epoch: int, entity: cc.Entity) -> list[cc.Row]:
    own = [e for e in mine(world, epoch) if cc.publishes_under(entity, e.subject.name, e.subject.uscc)]
    return [cc.Row(entry_row(e), e.listed_on) for e in sorted(own, key=lambda e: e.document_no)]


@cc.site_list(SITE_LIST)
def page_list(world: World, epoch: int, keyword: str) -> list[dict]:
    """The page's list: name, type, date (newest first); a keyword narrows it to names containing it."""
    word = cc.fold(keyword)
    rows = sorted(mine(world, epoch), key=lambda e: (-e.listed_on.toordinal(), e.document_no))
    return [{"entityName": e.subject.name, "entityType": "法人及非法人组织", "publishDate": e.listed_on.isoformat()}
            for e in rows if not word or word in cc.fold(e.subject.name)]


def ground_truth(world: World, epoch: int = 0) -> dict[str, dict]:
    """creditchina_serious_dishonest: every entry at the epoch, keyed by 认定文书号."""
    entries = mine(world, epoch)
    return {SOURCE: {"records": {e.document_no for e in entries if not e.malformed},
                     "quarantined": {e.document_no: e.malformed for e in entries if e.malformed}}}
