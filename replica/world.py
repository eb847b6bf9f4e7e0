"""The replica's world: a seeded, deterministic set of companies and their registry records.

Everything the replica serves is derived from `World(seed)`, and `World.ground_truth()` says what a
perfect crawl must produce (records by natural key, and the rows that must be quarantined, with why).
Tests compare a crawl against it; the demo runs on it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

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

PENALTY_KINDS = ["warning", "fine", "fine", "fine_confiscation", "fine_suspension", "licence_revocation",
                 "circulated_criticism"]
PENALTY_KIND_LABELS = {
    "warning": (["warning"], "警告"),
    "fine": (["fine"], "罚款"),
    "fine_confiscation": (["fine", "confiscation"], "罚款;没收违法所得"),
    "fine_suspension": (["fine", "suspension_of_business"], "罚款;责令停产停业"),
    "licence_revocation": (["licence_revocation"], "吊销许可证件"),
    "circulated_criticism": (["circulated_criticism"], "通报批评"),
}


def _s2t(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)



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


# -- record families: what the registries publish about subjects ---------------------------------
# Every record has `epoch_added` / `epoch_removed`: the replica serves the world at an epoch (a later
# crawl), so records can appear, change or disappear (repair, expiry) between two crawls.

PERSON_ID_AREAS = ["110101", "310104", "440305", "330106", "510107", "520102"]


def person_id(rng: random.Random) -> str:
    """A syntactically valid PRC ID (GB 11643 check digit) for a synthetic person."""
    born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 40))
    first17 = f"{rng.choice(PERSON_ID_AREAS)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]
    return first17 + check


@dataclass
class Subject:
    """Who a record names, as the registry publishes it, and the truth behind it."""

    name: str  # as published: may carry traditional or full-width characters
    uscc: str | None  # as published: may be missing or carry a wrong check character
    kind: str  # company | branch | individual_business | unrelated
    operator_uscc: str | None  # ground truth: the licensed operator this subject belongs to, if any
    person_name: str | None = None  # 个体工商户 operator / legal representative (personal data)
    person_id: str | None = None  # their ID number (personal data: must be masked at ingest)


@dataclass
class Penalty:
    """行政处罚 on 信用中国 (platform creditchina) or 公示系统 (platform gsxt)."""

    decision_no: str  # 行政处罚决定书文号: the natural key
    platform: str
    subject: Subject
    kinds: list[str]  # our vocabulary: warning, fine, confiscation, suspension_of_business, …
    kinds_text: str  # 处罚类别 as published
    content: str  # 处罚内容
    facts: str  # 违法事实
    basis: str  # 处罚依据
    fine_yuan: Decimal | None
    decided_on: date
    published_on: date
    authority: str
    authority_code: str
    domain: str  # general | food | drug | special_equipment | work_safety | fire | telecom
    amount_in_wan: bool = False  # published in 万元 (双公示 罚款金额(万元))
    date_style: str = "iso"  # how this record's dates are written: iso | cn | slash | compact | epoch_ms
    malformed: str | None = None  # why a crawl must quarantine it (field: reason)
    epoch_added: int = 0
    epoch_removed: int | None = None  # repaired or expired before this epoch's crawl


CHINA = timezone(timedelta(hours=8))


def render_date(day: date, style: str) -> str | int:
    """A date as a record's `date_style` writes it: iso 2024-03-05, cn 2024年3月5日, slash 2024/3/5,
    compact 20240305, or epoch_ms (Asia/Shanghai midnight, a number) — every form the registries use."""
    if style == "cn":
        return f"{day.year}年{day.month}月{day.day}日"
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "compact":
        return f"{day:%Y%m%d}"
    if style == "epoch_ms":
        return int(datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp() * 1000)
    return day.isoformat()


def live_at(record: object, epoch: int) -> bool:
    added = getattr(record, "epoch_added", 0)
    removed = getattr(record, "epoch_removed", None)
    return added <= epoch and (removed is None or epoch < removed)


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
        self.subjects: list[Subject] = self._subjects()
        # Record families (penalties, abnormal_listings, …): each source's replica module adds its share
        # (replica/sites.py `populate`), from its own random stream.
        self.families: dict[str, list] = {}
        from replica import sites

        sites.populate(self)

    def family(self, name: str) -> list:
        """The records of one family (created empty on first use, so a source can add to it)."""
        return self.families.setdefault(name, [])

    def __getattr__(self, name: str) -> list:
        # world.penalties, world.court_dishonest, …: a family by attribute, for readability in site modules.
        families = self.__dict__.get("families")
        if families is not None and name in families:
            return families[name]
        raise AttributeError(f"World has no attribute or record family {name!r}")

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


    # -- records about subjects -----------------------------------------------------------------
    def _variant(self, name: str) -> str:
        """The same name as some registries print it: traditional, full-width, 有限责任公司, spaces."""
        roll = self.rng.random()
        if roll < 0.15:
            return _s2t(name)
        if roll < 0.25:
            return name.replace("(", "（").replace(")", "）") + "\u3000"
        if roll < 0.35 and name.endswith("有限公司") and not name.endswith("股份有限公司"):
            return name[: -len("有限公司")] + "有限责任公司"
        return name

    def _published_uscc(self, uscc: str) -> str | None:
        roll = self.rng.random()
        if roll < 0.1:
            return None
        if roll < 0.15:  # a wrong check character, as registries sometimes publish
            wrong = USCC_ALPHABET[(USCC_ALPHABET.index(uscc[-1]) + 1) % len(USCC_ALPHABET)]
            return uscc[:-1] + wrong
        return uscc

    def _subjects(self) -> list[Subject]:
        rng = self.rng
        subjects: list[Subject] = []
        for company in self.companies:
            subjects.append(Subject(self._variant(company.name), self._published_uscc(company.uscc), "company",
                                    company.uscc, person_name=company.legal_rep))
            for branch in company.branches:
                region = next(r for r in REGIONS if REGION_CITY[r] in branch[len(company.name):])
                subjects.append(Subject(branch, self._uscc(REGIONS[region][1]), "branch", company.uscc))
        # Companies that are NOT licensed operators, named like them: same trade name in another city,
        # or a trade name one character off. A linker must not give their records to an operator.
        for company in rng.sample(self.companies, k=max(3, len(self.companies) // 6)):
            other = rng.choice([r for r in REGIONS if r != company.region])
            near = company.name.replace(REGION_CITY[company.region], REGION_CITY[other], 1)
            subjects.append(Subject(near, self._uscc(REGIONS[other][1]), "unrelated", None))
            slip = company.trade_name[0] + rng.choice([c for c in TRADE_CHARS if c not in company.trade_name])
            subjects.append(Subject(company.name.replace(company.trade_name, slip, 1),
                                    self._uscc(REGIONS[company.region][1]), "unrelated", None))
        # 个体工商户: a person's business; the registries print the person's name and ID number.
        for _ in range(4):
            region = rng.choice(list(REGIONS))
            person = self._person()
            subjects.append(Subject(f"{REGION_CITY[region]}市{person}网络服务部", self._uscc(REGIONS[region][1], "92"),
                                    "individual_business", None, person_name=person, person_id=person_id(rng)))
        return subjects

    def date_style(self, rng: random.Random) -> str:
        """How a record writes its dates: every form the registries use, iso most often."""
        return rng.choice(["iso", "iso", "cn", "slash", "compact", "epoch_ms"])

    def uscc(self, rng: random.Random, region_code: str, kind: str = "91") -> str:
        """A valid code (GB 32100) for a registration in `region_code` (kind 91 company, 92 个体工商户, 11 机关)."""
        body = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        first17 = kind + region_code + body
        return first17 + uscc_check_char(first17)

    def penalty(self, rng: random.Random, subject: Subject, platform: str, authority: str, authority_region: str,
                domain: str, decision_no: str, decided: date) -> Penalty:
        """A 行政处罚 against `subject`, decided by `authority` on `decided` (the source picks those)."""
        kind = rng.choice(PENALTY_KINDS)
        fine = None
        if kind in ("fine", "fine_confiscation", "fine_suspension"):
            fine = Decimal(rng.choice([2000, 5000, 10000, 30000, 50000, 100000, 200000, 500000]))
        kinds, kinds_text = PENALTY_KIND_LABELS[kind]
        content = kinds_text if fine is None else f"{kinds_text}，罚款人民币{fine}元"
        facts = "未按规定履行网络与信息安全管理义务"
        if subject.person_id:
            facts = f"当事人{subject.person_name}（公民身份号码{subject.person_id}）{facts}"
        return Penalty(
            decision_no=decision_no, platform=platform, subject=subject, kinds=kinds, kinds_text=kinds_text,
            content=content, facts=facts, basis="《中华人民共和国网络安全法》第五十九条", fine_yuan=fine,
            decided_on=decided, published_on=decided + timedelta(days=rng.randint(1, 7)), authority=authority,
            authority_code=self.uscc(rng, REGIONS[authority_region][1], "11"), domain=domain,
            amount_in_wan=rng.random() < 0.3, date_style=self.date_style(rng))

    def at(self, epoch: int) -> dict[str, list]:
        """Every record family as published at `epoch` (0 = the first crawl, 1 = a week later)."""
        return {name: [r for r in records if live_at(r, epoch)] for name, records in self.families.items()}

    # -- views --------------------------------------------------------------------------------
    def licences(self) -> list[tuple[Company, Licence]]:
        return [(c, lic) for c in self.companies for lic in c.licences]

    def ground_truth(self, epoch: int = 0) -> dict[str, dict]:
        """What a perfect crawl at `epoch` yields, per source: natural keys kept, keys quarantined with why.
        Each site module says it for its own sources (replica/sites/)."""
        from replica.sites import ground_truth

        return ground_truth(self, epoch)
