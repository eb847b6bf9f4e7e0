"""重大税收违法失信主体 on the replica: the catalogue table credit_swzj_fr_zdsswfajdsr of 信用中国's private-api.

The site (routes, envelope, 40001 refusal and captcha, unknown paths) is the platform's:
spiders/platforms/creditchina_replica.py; this module registers the table's rows (`catalogSearch`) and the cases'
subjects (entities of the entity search). Rows are flat (chige007/Crawier `analyze.js` reads `data.list[i]`'s
keys directly): nsrmc, fddbrhzfzrmc, tyshxydm, zzjgdm, nsrsbh, ajsbq, zcdz, fyzjzrdcwfzrxm,
fyzjzrdzjjgxxjqcyryxx, ajxz, zywfss, xgflyjj_swclcfqk, dataSource (§1.2, §7.8).
The replica's guesses: `keyword` matches 纳税人名称 by substring or a code exactly, an empty keyword finds nothing
(as the entity search); 案件上报期 is written 2025年03月; rows newest period first.

Its share of the world: two operators and one 个体工商户 (a person's business: the person's ID number appears in
the facts, which the pipeline masks) are on the list. Faults: one case is published with an impossible 案件上报期
(2025年13月, a crawl must quarantine it); between the crawls one case stops being published and one is added.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from replica.world import REGION_CITY, Subject, World
from spiders.platforms import creditchina_replica as cc
from spiders.platforms.creditchina_replica import HOST, ROUTES, not_found  # noqa: F401 (the site this source is on)

SOURCE = "creditchina_tax_violations"
FAMILY = "tax_major_violations"
TABLE = "credit_swzj_fr_zdsswfajdsr"
NATURES = [
    ("虚开增值税专用发票", "虚开增值税专用发票{n}份，金额{amount}万元"),
    ("偷税", "采取隐匿收入方式少缴增值税、企业所得税{amount}万元，占应纳税总额{share}%"),
    ("逃避追缴欠税", "欠缴税款{amount}万元，采取转移财产手段妨碍税务机关追缴"),
]
BASIS = "依据《中华人民共和国税收征收管理法》第六十三条，追缴税款、加收滞纳金，并处少缴税款百分之五十的罚款"


@dataclass
class TaxCase:
    """A 重大税收违法失信主体 case: the taxpayer, its people (personal data), the period, nature and facts."""

    subject: Subject
    legal_rep: str
    finance_head: str
    period: date  # 案件上报期 (its month)
    nature: str
    facts: str
    authority: str
    malformed: str | None = None
    epoch_added: int = 0
    epoch_removed: int | None = None

    @property
    def period_text(self) -> str:
        return f"{self.period.year}年13月" if self.malformed else f"{self.period.year}年{self.period.month:02d}月"

    @property
    def key(self) -> str:
        """The spider's natural key: code | 案件上报期 as published | sha1(案件性质)[:8]."""
        import hashlib

        digest = hashlib.sha1(self.nature.encode("utf-8")).hexdigest()[:8]
        return f"{self.subject.uscc or self.subject.name}|{self.period_text}|{digest}"


def populate(world: World, rng: random.Random) -> None:
    cases = world.family(FAMILY)
    people = "王李张刘陈杨黄赵"

    def add(subject: Subject, region: str) -> TaxCase:
        nature, facts = rng.choice(NATURES)
        text = facts.format(n=rng.randint(10, 90), amount=rng.randint(100, 900), share=rng.randint(10, 40))
        if subject.person_id:
            text = f"经营者{subject.person_name}（公民身份号码{subject.person_id}）{text}"
        period = (world.today - timedelta(days=rng.randint(40, 900))).replace(day=1)
        case = TaxCase(subject, subject.person_name or rng.choice(people) + "某某", rng.choice(people) + "某",
                       period, nature, text, f"国家税务总局{REGION_CITY[region]}市税务局稽查局")
        cases.append(case)
        return case

    picked = rng.sample(world.companies, k=4)
    for company in picked[:3]:
        add(Subject(company.name, company.uscc, "company", company.uscc, company.legal_rep), company.region)
    individual = next(s for s in world.subjects if s.kind == "individual_business")
    region = next(r for r, city in REGION_CITY.items() if individual.name.startswith(city))
    add(individual, region)
    cases[2].malformed = "reported_on: impossible date"
    cases[0].epoch_removed = 1
    late = add(Subject(picked[3].name, picked[3].uscc, "company", picked[3].uscc, picked[3].legal_rep),
               picked[3].region)
    late.epoch_added = 1


def mine(world: World, epoch: int) -> list[TaxCase]:
    return list(world.at(epoch).get(FAMILY, []))


def case_row(case: TaxCase) -> dict:
    """One catalogSearch `data.list` row, field for field."""
    uscc = case.subject.uscc or ""
    return {
        "nsrmc": case.subject.name, "fddbrhzfzrmc": case.legal_rep, "tyshxydm": uscc,
        "zzjgdm": uscc[8:17] if len(uscc) == 18 else "", "nsrsbh": uscc, "ajsbq": case.period_text,
        "zcdz": f"{case.subject.name[:2]}市某区某路1号", "fyzjzrdcwfzrxm": case.finance_head,
        "fyzjzrdzjjgxxjqcyryxx": "", "ajxz": case.nature, "zywfss": case.facts, "xgflyjj_swclcfqk": BASIS,
        "dataSource": case.authority,
    }


@cc.subjects
def taxpayers(world: World) -> Iterable[Subject]:
    return [c.subject for c in world.families.get(FAMILY, [])]


@cc.table(TABLE)
def table_rows(world: World, epoch: int, keyword: str) -> list[dict]:
    word = cc.fold(keyword)
    if not word:
        return []
    found = [c for c in mine(world, epoch) if word in cc.fold(c.subject.name) or word == (c.subject.uscc or "")]
    return [case_row(c) for c in sorted(found, key=lambda c: (-c.period.toordinal(), c.key))]


def ground_truth(world: World, epoch: int = 0) -> dict[str, dict]:
    """creditchina_tax_violations: every case at the epoch that the default terms (公司, 服务部) find."""
    cases = [c for c in mine(world, epoch) if "公司" in c.subject.name or "服务部" in c.subject.name]
    return {SOURCE: {"records": {c.key for c in cases if not c.malformed},
                     "quarantined": {c.key: c.malformed for c in cases if c.malformed}}}
