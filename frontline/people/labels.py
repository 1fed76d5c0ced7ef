"""The census sheet's own vocabulary, fixed in Chinese whatever the UI language.

Kept free of Django imports so that tools outside the app (the benchmark's generator)
share the one definition.
"""

CENSUS_COLUMNS = [
    "区县",
    "乡镇街道",
    "村社区",
    "小区",
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "工作单位",
    "党员",
    "会网购",
    "重点人群",
    "在外",
]

# Optional columns at the end of the sheet (issue 6): a sheet without them imports as
# before and leaves the stored contacts alone. The export and the template carry them.
EMERGENCY_COLUMNS = ["紧急联系人", "紧急联系电话"]
# Kept on the resident when a sheet has it (issue 10), exported back after the contacts.
RELATION_COLUMN = "与户主关系"
OPTIONAL_COLUMNS = [*EMERGENCY_COLUMNS, RELATION_COLUMN]
# The columns the export and the blank template write, in order.
SHEET_COLUMNS = [*CENSUS_COLUMNS, *OPTIONAL_COLUMNS]

# Care group code (models.CareGroup) → the label sheets carry.
CARE_GROUP_LABELS: dict[str, str] = {
    "elderly_alone": "独居老人",
    "pregnant": "孕妇",
    "infant": "婴幼儿",
    "disabled": "残疾人",
    "dialysis": "透析",
    "subsistence": "低保",
    "five_guarantees": "五保",
    "extreme_hardship": "特困",
}
CARE_GROUP_BY_LABEL = {label: code for code, label in CARE_GROUP_LABELS.items()}
