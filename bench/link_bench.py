"""Benchmark link_records: N records (default 1,000,000) against 60,000 licensed operators.

    .venv/bin/python -m bench.link_bench                   # 1M records, 3 runs, medians
    .venv/bin/python -m bench.link_bench --records 100000  # quick run

The generator is seeded: operators are region + trade name (字号) + industry + legal form, with brand
aliases, former names (曾用名) and valid USCCs; records mix exact names, variants (traditional script,
bracketed region, 有限责任公司, one-character slips), branches (分公司), aliases, USCC-only matches and a
majority of other companies (repeated, as registries list the same firm many times), with empty, valid
and invalid USCCs. Prints wall time, records/s and peak RSS (resource.getrusage) per run.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time

import opencc
import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

from transforms.link import link_records

SEED = 4
# Characters common in trade names (字号).
TRADE_CHARS = ("瑞祥泰鑫华达恒盛宏昌嘉博睿星辰易航腾联锐智远宇凯越德丰隆源亿卓新明光辉煌佳美优品诚创聚汇润和顺利兴旺"
               "发福康乐欣悦佰仟万众合力飞鸿鹏龙凤麒麟金银玉宝富贵荣耀锦绣峰岭川泽江河湖讯迅捷云端数科微视图灵思"
               "维度界道途径驰骋奥林匹斯特尔克蓝绿青紫红橙黄白黑天地人和中外东西南北春夏秋冬风雨雷电山石木火土"
               "百千亿兆一二三四五六七八九十方圆正大同心安平世纪网宿信安华为腾讯百度阿里京东网易新浪搜狐奇虎")
REGIONS = ("北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "郑州",
           "长沙", "合肥", "济南", "青岛", "厦门", "福州", "宁波", "无锡", "东莞", "佛山", "沈阳", "大连", "哈尔滨",
           "长春", "石家庄", "太原", "呼和浩特", "南宁", "昆明", "贵阳", "兰州", "银川", "西宁", "乌鲁木齐", "拉萨",
           "海口", "南昌", "广东", "江苏", "浙江", "山东", "河南", "四川", "湖北", "湖南", "福建", "安徽")
INDUSTRIES = ("科技", "网络科技", "信息技术", "数据科技", "云计算", "通信技术", "计算机系统", "网络技术", "电子商务",
              "软件", "信息科技", "智能科技", "数字科技", "互联网科技", "实业", "贸易", "商贸", "投资", "文化传媒",
              "数据服务", "系统集成", "电子科技", "通讯技术", "物联网科技", "技术服务")
FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
BRANCH_CITIES = ("北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆")


def _uscc(number: int) -> str:
    body = f"91{110000 + number % 900000:06d}{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def _company(rng: random.Random) -> tuple[str, str, str, str]:
    region = rng.choice(REGIONS) if rng.random() < 0.75 else ""
    trade = "".join(rng.choice(TRADE_CHARS) for _ in range(rng.choice((2, 3, 3, 3, 4, 4))))
    return region, trade, rng.choice(INDUSTRIES), rng.choice(FORMS)


def make_operators(n: int, rng: random.Random) -> pd.DataFrame:
    """n operators with unique names, valid USCCs, brand aliases (30%) and former names (20%)."""
    rows, seen = [], set()
    while len(rows) < n:
        region, trade, industry, form = _company(rng)
        name = f"{region}{trade}{industry}{form}"
        if name in seen:
            continue
        seen.add(name)
        aliases = []
        if rng.random() < 0.3:
            aliases.append(trade + rng.choice(("云", "数据", "网络")))
        if rng.random() < 0.2:
            aliases.append(f"{rng.choice(REGIONS)}{trade}{rng.choice(INDUSTRIES)}有限公司")
        rows.append((f"op{len(rows):05d}", name, _uscc(len(rows)), "|".join(aliases)))
    return pd.DataFrame(rows, columns=["operator_id", "name", "uscc", "aliases"])


def make_records(operators: pd.DataFrame, n: int, rng: random.Random, others: int | None = None) -> pd.DataFrame:
    """n records: ~22% about operators (exact, variants, branches, aliases, slips, USCC only), the rest
    other companies drawn from a pool of `others` names (default n/2.5, so names repeat)."""
    return make_records_with_truth(operators, n, rng, others)[0]


def make_records_with_truth(operators: pd.DataFrame, n: int, rng: random.Random,
                            others: int | None = None) -> tuple[pd.DataFrame, list[str | None]]:
    """make_records' records (the same draws: one seed gives one data set) and, for each, the operator_id
    it was generated from (None for the other companies), so a benchmark can measure precision."""
    operator_ids = operators["operator_id"].tolist()
    truth: list[str | None] = []
    s2t = opencc.OpenCC("s2t")
    names, aliases, usccs = operators["name"].tolist(), operators["aliases"].tolist(), operators["uscc"].tolist()
    pool_size = others or max(1, int(n / 2.5))
    pool = ["".join(_company(rng)) for _ in range(pool_size)]
    pool_uscc = [_uscc(10_000_000 + i) if rng.random() < 0.5 else "" for i in range(pool_size)]
    rows = []
    for number in range(n):
        draw = rng.random()
        op = rng.randrange(len(names))
        uscc = ""
        if draw < 0.10:
            name = names[op]
        elif draw < 0.13:
            name = s2t.convert(names[op])
        elif draw < 0.15:
            name = names[op].replace("有限公司", "有限责任公司", 1)
        elif draw < 0.18:
            name = f"{names[op]}{rng.choice(BRANCH_CITIES)}分公司"
        elif draw < 0.19:
            name = aliases[op].split("|")[0] or names[op]
        elif draw < 0.20:
            position = rng.randrange(2, len(names[op]) - 4)
            name = names[op][:position] + rng.choice(TRADE_CHARS) + names[op][position + 1:]
        elif draw < 0.22:
            name, uscc = rng.choice(pool), usccs[op]
        else:
            other = rng.randrange(pool_size)
            name, uscc = pool[other], pool_uscc[other]
        if uscc and rng.random() < 0.05:
            uscc = uscc[:-1] + ("1" if uscc[-1] != "1" else "2")  # a typo: invalid check character
        rows.append((f"rec{number:07d}", name, uscc))
        truth.append(operator_ids[op] if draw < 0.22 else None)
    return pd.DataFrame(rows, columns=["record_id", "name", "uscc"]), truth


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (a busy shared machine inflates wall)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--operators", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(SEED)
    started = time.perf_counter()
    operators = make_operators(args.operators, rng)
    records = make_records(operators, args.records, rng)
    print(f"generated {len(operators):,} operators, {len(records):,} records "
          f"({records['name'].nunique():,} distinct names) in {time.perf_counter() - started:.1f} s; "
          f"RSS so far {peak_rss_mib():.0f} MiB")
    walls, cpus = [], []
    for run in range(args.runs):
        cpu_started, started = cpu_seconds(), time.perf_counter()
        links = link_records(operators, records)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        walls.append(wall)
        cpus.append(cpu)
        counts = links["status"].value_counts().to_dict()
        print(f"run {run + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, {len(records) / wall:,.0f} records/s, "
              f"peak RSS {peak_rss_mib():.0f} MiB, load {os.getloadavg()[0]:.1f}, {counts}")
        del links
    median = statistics.median(walls)
    print(f"median of {len(walls)}: {median:.2f} s wall, {statistics.median(cpus):.2f} s CPU, "
          f"{len(records) / median:,.0f} records/s, peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
