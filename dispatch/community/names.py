"""Names used by the demo-community generator: places (Chinese and English) and people.

Real Ganzhou road names are borrowed for flavour only; the generated layout does not follow the real streets.
The people are fictitious: names are drawn from common surnames and given-name characters.
"""

from __future__ import annotations

COMMUNITY_NAME = "先锋社区"
COMMUNITY_NAME_EN = "Xianfeng Community"

# Main roads that cross the community: (name, name_en). Two north-south, then two east-west (north first).
CROSS_ROADS: tuple[tuple[str, str], ...] = (
    ("中山路", "Zhongshan Rd"),
    ("阳明路", "Yangming Rd"),
    ("文清路", "Wenqing Rd"),
    ("红旗大道", "Hongqi Ave"),
)
# Roads along the edge of the community, by side.
EDGE_ROADS: dict[str, tuple[str, str]] = {
    "N": ("赣江路", "Ganjiang Rd"),
    "E": ("厚德路", "Houde Rd"),
    "S": ("东阳山路", "Dongyangshan Rd"),
    "W": ("章江路", "Zhangjiang Rd"),  # the riverside road
}
# Old alley names in the style of Ganzhou's old town, given to a few lanes.
OLD_LANES: tuple[tuple[str, str], ...] = (
    ("灶儿巷", "Zao'er Lane"),
    ("均井巷", "Junjing Lane"),
    ("米市巷", "Mishi Lane"),
    ("和平巷", "Heping Lane"),
    ("光明巷", "Guangming Lane"),
    ("兴隆巷", "Xinglong Lane"),
    ("新风巷", "Xinfeng Lane"),
    ("百胜巷", "Baisheng Lane"),
    ("建春巷", "Jianchun Lane"),
    ("慈姑巷", "Cigu Lane"),
)
NUMERALS = (
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
    "十五",
    "十六",
    "十七",
    "十八",
    "十九",
    "二十",
)

GRID_NAMES: tuple[str, ...] = (
    "第一网格",
    "第二网格",
    "第三网格",
    "第四网格",
    "第五网格",
    "第六网格",
    "第七网格",
    "第八网格",
    "第九网格",
)

# Residential zones by era: "old" compounds are low-rise walk-ups, "new" ones towers, "mixed" both.
ZONES_OLD: tuple[tuple[str, str], ...] = (
    ("文清小区", "Wenqing Estate"),
    ("红旗大道宿舍", "Hongqi Avenue Quarters"),
    ("健康路小区", "Jiankang Road Estate"),
    ("纺织厂宿舍", "Textile Mill Quarters"),
    ("供电局宿舍", "Power Bureau Quarters"),
    ("师专家属区", "Teachers College Quarters"),
    ("濂溪新村", "Lianxi New Village"),
    ("和平里小区", "Hepingli Estate"),
    ("卫生局宿舍", "Health Bureau Quarters"),
)
ZONES_MIXED: tuple[tuple[str, str], ...] = (
    ("章江花园", "Zhangjiang Garden"),
    ("厚德苑", "Houde Court"),
    ("阳明雅居", "Yangming Residences"),
    ("翠微苑", "Cuiwei Court"),
)
ZONES_NEW: tuple[tuple[str, str], ...] = (
    ("赣江明珠", "Ganjiang Pearl"),
    ("滨江豪园", "Binjiang Mansions"),
    ("紫荆花园", "Bauhinia Garden"),
)

# Common surnames, weighted roughly by frequency in southern Jiangxi (Hakka names such as 钟, 曾, 赖 are frequent).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("刘", 10),
    ("李", 8),
    ("陈", 8),
    ("黄", 7),
    ("王", 6),
    ("张", 6),
    ("钟", 6),
    ("曾", 5),
    ("谢", 5),
    ("赖", 5),
    ("邱", 4),
    ("杨", 4),
    ("罗", 4),
    ("肖", 4),
    ("郭", 3),
    ("廖", 3),
    ("温", 3),
    ("胡", 3),
    ("朱", 3),
    ("吴", 3),
    ("周", 3),
    ("徐", 2),
    ("何", 2),
    ("林", 2),
    ("叶", 2),
    ("彭", 2),
    ("卢", 2),
    ("邓", 2),
    ("赵", 2),
    ("孙", 1),
    ("宋", 1),
    ("蔡", 1),
    ("袁", 1),
    ("严", 1),
    ("欧阳", 1),
    ("熊", 1),
    ("魏", 1),
    ("龚", 1),
    ("汤", 1),
    ("易", 1),
)
GIVEN_FIRST = "建国志海春秋晓小文永德玉丽秀明俊子梓雨思嘉一欣家红桂金云光华卫立新振"
GIVEN_SECOND = "华平明强伟军芳敏静丽涛辉斌鹏宇浩婷琳晨亮峰燕萍英兰杰超勇霞娟轩涵怡远诺"
GIVEN_SINGLE = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华红文辉玲斌鹏宇浩欣婷雪琳晨俊亮峰燕萍"
