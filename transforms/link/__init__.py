"""Record → licensed-operator linker (记录与持证运营商关联).

Methods, in order: analyst judgement, uscc (统一社会信用代码), name_exact, branch (分支机构), alias
(别名/曾用名), fuzzy (parsed region / 字号 / 行业 / 组织形式, blocked on the trade name). See link_records.
"""

from transforms.link.errors import LinkInputError
from transforms.link.files import link_csv_files
from transforms.link.records import link_records

__all__ = ["LinkInputError", "link_csv_files", "link_records"]
