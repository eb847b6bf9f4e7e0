"""The replica's world: a seeded, deterministic set of companies and their registry records.

Everything the replica serves is derived from `World(seed)`, and `World.ground_truth()` says what a
perfect crawl must produce (records by natural key, and the rows that must be quarantined, with why).
Tests compare a crawl against it; the demo runs on it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

REGIONS = {
    "北京": ("京", "110000", "北京市通信管理局"),
    "上海": ("沪", "310000", "上海市通信管理局"),
    "广东": ("粤", "440000", "广东省通信管理局"),
    "浙江": ("浙", "330000", "浙江省通信管理局"),
    "贵州": ("黔", "520000", "贵州省通信管理局"),
    "四川": ("川", "510000", "四川省通信管理局"),
    "江苏": ("苏", "320000", "江苏省通信管理局"),
    "宁夏": ("宁", "640000", "宁夏回族自治区通信管理局"),
}
REGION_CITY = {"北京": "北京", "上海": "上海", "广东": "深圳", "浙江": "杭州", "贵州": "贵阳",
               "四川": "成都", "江苏": "南京", "宁夏": "中卫"}
TRADE_CHARS = "云启星辰天翼华数联信达通泰恒瑞博远智海峰鼎盛宏安凯迅捷优新锐腾飞景明德源"
INDUSTRIES = ["云计算科技", "网络科技", "数据科技", "信息技术", "通信技术", "科技"]
LEGAL_FORMS = ["有限公司", "有限责任公司", "股份有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"

# Business-type labels as MIIT licence data writes them (registries.md §3.1); codes from the 2015
# catalogue (the code ↔ label pairs are marked unverified there).
BUSINESS_TYPES = {
    "B11-cloud": "互联网数据中心业务（仅限互联网资源协作服务）",
    "B11": "互联网数据中心业务（不含互联网资源协作服务）",
    "B12": "内容分发网络业务",
    "B14": "互联网接入服务业务（含网站接入）",
    "B25": "信息服务业务（仅限互联网信息服务）",
}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_check_char(first17: str) -> str:
    """GB 32100 mod-31 check character (the replica makes its own codes, so it must not import ours)."""
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@dataclass
class BusinessType:
    label: str
    coverage: str
    issued_on: date
    expires_on: date


@dataclass
class Licence:
    lic_id: str
    licence_no: str
    issuer: str
    business_types: list[BusinessType]
    malformed: str | None = None  # why a crawl must quarantine this licence, if it must


@dataclass
class Company:
    uscc: str
    name: str
    region: str
    trade_name: str
    legal_rep: str
    address: str
    branches: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    licences: list[Licence] = field(default_factory=list)


class World:
    """A deterministic registry world built from `seed`."""

    def __init__(self, seed: int = 20261123, operators: int = 40) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.today = date(2026, 11, 23)
        self.companies: list[Company] = []
        used_names: set[str] = set()
        while len(self.companies) < operators:
            company = self._company(len(self.companies))
            if company.name not in used_names:
                used_names.add(company.name)
                self.companies.append(company)

    # -- generation ---------------------------------------------------------------------------
    def _uscc(self, region_code: str, kind: str = "91") -> str:
        body = "".join(self.rng.choice(USCC_ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        first17 = kind + region_code + body
        return first17 + uscc_check_char(first17)

    def _person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice([1, 2])))

    def _company(self, index: int) -> Company:
        rng = self.rng
        region = rng.choice(list(REGIONS))
        trade = "".join(rng.sample(TRADE_CHARS, 2))
        name = f"{REGION_CITY[region]}{trade}{rng.choice(INDUSTRIES)}{rng.choice(LEGAL_FORMS)}"
        company = Company(
            uscc=self._uscc(REGIONS[region][1]),
            name=name,
            region=region,
            trade_name=trade,
            legal_rep=self._person(),
            address=f"{REGION_CITY[region]}市{rng.choice('东西南北中')}区{rng.randint(1, 300)}号",
        )
        if rng.random() < 0.4:
            other = rng.choice([r for r in REGIONS if r != region])
            company.branches.append(f"{name}{REGION_CITY[other]}分公司")
        if rng.random() < 0.2:
            company.aliases.append(f"{trade}云")
        company.licences = [self._licence(company, n) for n in range(1 if rng.random() < 0.8 else 2)]
        # One licence in the world is published with a malformed number: it must end in quarantine.
        if index == 7:
            lic = company.licences[0]
            lic.licence_no = lic.licence_no[:-1]
            lic.malformed = "licence_no: does not match the MIIT licence number pattern"
        return company

    def _licence(self, company: Company, n: int) -> Licence:
        rng = self.rng
        cross_regional = rng.random() < 0.5
        issued = self.today - timedelta(days=rng.randint(30, 365 * 5))
        year = issued.year
        if cross_regional:
            number = f"B1-{year}{rng.randint(0, 9999):04d}"
            issuer = "工业和信息化部"
            coverage = "全国"
        else:
            prefix, _code, bureau = REGIONS[company.region]
            number = f"{prefix}B2-{year}{rng.randint(0, 9999):04d}"
            issuer = bureau
            coverage = company.region
        kinds = rng.sample(list(BUSINESS_TYPES), rng.randint(1, 3))
        # Licences run five years; some expire within six months of "today" to exercise licence risk.
        expires = issued + timedelta(days=365 * 5)
        if rng.random() < 0.15:
            expires = self.today + timedelta(days=rng.randint(10, 170))
        types = [BusinessType(BUSINESS_TYPES[k], coverage, issued, expires) for k in sorted(kinds)]
        return Licence(
            lic_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            licence_no=number,
            issuer=issuer,
            business_types=types,
        )

    # -- views --------------------------------------------------------------------------------
    def licences(self) -> list[tuple[Company, Licence]]:
        return [(c, lic) for c in self.companies for lic in c.licences]

    def ground_truth(self) -> dict[str, dict]:
        """What a perfect crawl yields, per source: natural keys kept, and keys quarantined with why."""
        kept = {lic.lic_id for _, lic in self.licences() if not lic.malformed}
        quarantined = {lic.lic_id: lic.malformed for _, lic in self.licences() if lic.malformed}
        return {"miit_licences": {"records": kept, "quarantined": quarantined}}
