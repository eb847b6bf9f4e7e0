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
LIST_REASONS = {"bad": "未按规定报告年报信息，经责令限期改正后仍未履行", "dishonest": "被吊销电信业务经营许可证"}
ABNORMAL_REASONS = [
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
    "通过登记的住所或者经营场所无法联系的",
    "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的",
]


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


@dataclass
class AbnormalListing:
    """经营异常名录 entry on 公示系统 (entBusExcep)."""

    key: str
    subject: Subject
    reason: str  # 列入经营异常名录原因
    listed_on: date
    authority: str
    removed_on: date | None = None  # 移出日期 (the listing stays visible with its removal)
    removal_reason: str | None = None
    removal_authority: str | None = None
    removed_in_epoch: int | None = None  # epoch from which the removal is shown
    date_style: str = "iso"
    epoch_added: int = 0
    epoch_removed: int | None = None


@dataclass
class SeriousIllegalListing:
    """严重违法失信名单 entry on 公示系统 (illInfo)."""

    key: str
    subject: Subject
    reason: str
    listed_on: date
    authority: str
    epoch_added: int = 0
    epoch_removed: int | None = None


@dataclass
class TelecomListEntry:
    """电信业务经营不良名单 (list bad) / 失信名单 (list dishonest) entry, published in MIIT notices."""

    key: str
    list_kind: str  # bad | dishonest
    subject: Subject
    licence_no: str | None
    decided_on: date
    reason: str  # 列入事由
    unit: str  # 列入单位
    notice_id: str
    epoch_added: int = 0
    epoch_removed: int | None = None


@dataclass
class TelecomNotice:
    """A quarterly MIIT notice listing entries, published as an HTML table, an XLSX or an image."""

    notice_id: str
    title: str
    published_on: date
    list_kind: str
    format: str  # html | xlsx | image
    entries: list[TelecomListEntry]
    epoch_added: int = 0


@dataclass
class CourtDishonest:
    """失信被执行人 (中国执行信息公开网 zxgk)."""

    case_code: str  # 案号: the natural key
    subject: Subject
    court: str
    area: str
    gist_id: str
    gist_unit: str
    duty: str
    performance: str
    disrupt_type: str
    registered_on: date
    published_on: date
    epoch_added: int = 0
    epoch_removed: int | None = None


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
        self.penalties: list[Penalty] = []
        self.abnormal_listings: list[AbnormalListing] = []
        self.serious_illegal: list[SeriousIllegalListing] = []
        self.telecom_notices: list[TelecomNotice] = []
        self.court_dishonest: list[CourtDishonest] = []
        self._records()

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

    def _date_style(self) -> str:
        return self.rng.choice(["iso", "iso", "cn", "slash", "compact", "epoch_ms"])

    def _penalty(self, subject: Subject, n: int) -> Penalty:
        rng = self.rng
        platform = "creditchina" if rng.random() < 0.6 else "gsxt"
        kind = rng.choice(PENALTY_KINDS)
        decided = self.today - timedelta(days=rng.randint(5, 365 * 3))
        fine = None
        if kind in ("fine", "fine_confiscation", "fine_suspension"):
            fine = Decimal(rng.choice([2000, 5000, 10000, 30000, 50000, 100000, 200000, 500000]))
        kinds, kinds_text = PENALTY_KIND_LABELS[kind]
        content = kinds_text if fine is None else f"{kinds_text}，罚款人民币{fine}元"
        if platform == "creditchina":
            region = rng.choice(list(REGIONS))
            authority, domain = REGIONS[region][2], "telecom"
            number = f"{REGIONS[region][0]}通管罚〔{decided.year}〕{n + 1}号"
        else:
            region = rng.choice(list(REGIONS))
            authority = f"{REGION_CITY[region]}市市场监督管理局"
            domain = rng.choice(["general", "general", "food", "special_equipment"])
            number = f"{REGIONS[region][0][0]}市监处罚〔{decided.year}〕{n + 100}号"
        facts = "未按规定履行网络与信息安全管理义务"
        if subject.person_id:
            facts = f"当事人{subject.person_name}（公民身份号码{subject.person_id}）{facts}"
        return Penalty(
            decision_no=number, platform=platform, subject=subject, kinds=kinds, kinds_text=kinds_text,
            content=content, facts=facts, basis="《中华人民共和国网络安全法》第五十九条", fine_yuan=fine,
            decided_on=decided, published_on=decided + timedelta(days=rng.randint(1, 7)), authority=authority,
            authority_code=self._uscc(REGIONS[region][1], "11"), domain=domain,
            amount_in_wan=rng.random() < 0.3, date_style=self._date_style())

    def _records(self) -> None:
        rng = self.rng
        subjects = self._subjects()
        for subject in subjects:
            for _ in range(rng.choice([0, 1, 1, 2])):
                self.penalties.append(self._penalty(subject, len(self.penalties)))
        # Faults in the data itself: records a crawl must quarantine, with the reason.
        self.penalties[3].malformed = "decided_on: impossible date"
        self.penalties[5].malformed = "fine_yuan: amount is not a number"
        # Between the first and the second crawl: two penalties repaired (gone), one new.
        self.penalties[0].epoch_removed = 1
        self.penalties[1].epoch_removed = 1
        late = self._penalty(subjects[2], len(self.penalties))
        late.epoch_added = 1
        self.penalties.append(late)
        for n, company in enumerate(c for c in self.companies if rng.random() < 0.3):
            subject = Subject(company.name, company.uscc, "company", company.uscc)
            listed = self.today - timedelta(days=rng.randint(30, 365 * 4))
            listing = AbnormalListing(f"{company.uscc}-{listed:%Y%m%d}", subject, rng.choice(ABNORMAL_REASONS),
                                      listed, f"{REGION_CITY[company.region]}市市场监督管理局",
                                      date_style=self._date_style())
            if n % 3 == 0:  # corrected: the listing shows its removal
                listing.removed_on = listed + timedelta(days=rng.randint(20, 200))
                listing.removal_reason = ("依照《企业经营异常名录管理暂行办法》第十一条规定，"
                                          "列入经营异常名录3年内且依照规定履行公示义务的")
                listing.removal_authority = listing.authority
            elif n % 3 == 1:  # corrected between the two crawls
                listing.removed_on = self.today + timedelta(days=3)
                listing.removal_reason = "补报了未报年份的年度报告并公示"
                listing.removal_authority = listing.authority
                listing.removed_in_epoch = 1
            self.abnormal_listings.append(listing)
        for company in rng.sample(self.companies, k=2):
            listed = self.today - timedelta(days=rng.randint(100, 900))
            self.serious_illegal.append(SeriousIllegalListing(
                f"{company.uscc}-{listed:%Y%m%d}", Subject(company.name, company.uscc, "company", company.uscc),
                "被列入经营异常名录届满3年仍未履行相关义务", listed, f"{REGION_CITY[company.region]}市市场监督管理局"))
        quarters = [(date(2026, 4, 20), "一"), (date(2026, 7, 20), "二"), (date(2026, 10, 20), "三")]
        formats = ["html", "xlsx", "image"]
        for q, ((published, label), fmt) in enumerate(zip(quarters, formats, strict=True)):
            for list_kind, list_name in (("bad", "不良名单"), ("dishonest", "失信名单")):
                if list_kind == "dishonest" and q != 1:
                    continue
                notice_id = f"n{published:%Y%m}{list_kind}"
                entries = []
                for company in rng.sample(self.companies, k=3 if list_kind == "bad" else 1):
                    lic = company.licences[0]
                    entries.append(TelecomListEntry(
                        f"{notice_id}-{lic.licence_no}", list_kind,
                        Subject(company.name, company.uscc, "company", company.uscc), lic.licence_no,
                        published - timedelta(days=rng.randint(5, 40)),
                        LIST_REASONS[list_kind],
                        REGIONS[company.region][2], notice_id))
                title = f"关于{published.year}年第{label}季度纳入电信业务经营{list_name}企业的公告"
                self.telecom_notices.append(TelecomNotice(notice_id, title, published, list_kind,
                                                          fmt if list_kind == "bad" else "html", entries))
        extra = self.telecom_notices[0].entries  # a notice published after the first crawl
        self.telecom_notices.append(TelecomNotice(
            "n202611bad", "关于2026年第四季度纳入电信业务经营不良名单企业的公告", date(2026, 11, 20), "bad", "html",
            [TelecomListEntry(f"n202611bad-{e.licence_no}", "bad", e.subject, e.licence_no, date(2026, 11, 10),
                              e.reason, e.unit, "n202611bad", epoch_added=1) for e in extra[:1]],
            epoch_added=1))
        for n, subject in enumerate(s for s in subjects if s.kind in ("company", "individual_business")
                                    and rng.random() < 0.15):
            court = f"{subject.name[:2]}市中级人民法院"
            registered = self.today - timedelta(days=rng.randint(60, 700))
            self.court_dishonest.append(CourtDishonest(
                f"({registered.year})京0105执{1000 + n}号", subject, court, subject.name[:2],
                f"({registered.year - 1})京0105民初{3000 + n}号", court, "支付货款及利息", "全部未履行",
                "有履行能力而拒不履行生效法律文书确定义务", registered, registered + timedelta(days=30),
                epoch_removed=1 if n == 0 else None))

    def at(self, epoch: int) -> dict[str, list]:
        """Every record family as published at `epoch` (0 = the first crawl, 1 = a week later)."""
        return {
            "penalties": [p for p in self.penalties if live_at(p, epoch)],
            "abnormal_listings": [a for a in self.abnormal_listings if live_at(a, epoch)],
            "serious_illegal": [s for s in self.serious_illegal if live_at(s, epoch)],
            "telecom_notices": [n for n in self.telecom_notices if live_at(n, epoch)],
            "court_dishonest": [c for c in self.court_dishonest if live_at(c, epoch)],
        }

    # -- views --------------------------------------------------------------------------------
    def licences(self) -> list[tuple[Company, Licence]]:
        return [(c, lic) for c in self.companies for lic in c.licences]

    def ground_truth(self, epoch: int = 0) -> dict[str, dict]:
        """What a perfect crawl at `epoch` yields, per source: natural keys kept, keys quarantined with why.
        Each site module says it for its own sources (replica/sites/)."""
        from replica.sites import ground_truth

        return ground_truth(self, epoch)
