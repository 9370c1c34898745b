"""Tokenising Chinese questions for retrieval: canonical forms, character
bigrams and jieba words.

Visitors ask the same thing in many words ("什么时候", "哪一年", "何时"). A
short table of everyday synonyms folds them to one canonical form before
tokenising, and exhibit aliases fold to the exhibit's title, so "红船" and
"南湖红船" are one term. Politeness and filler ("请问", "我想知道", "吗") carry
no information about which answer is meant and are removed.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Iterable

from .textnorm import CJK, normalize

# canonical form ← everyday variants. Longest variants are replaced first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "何时": ("什么时候", "什么时间", "啥时候", "哪一年", "哪年", "哪一天", "哪天", "几月几号", "几月几日", "何年",
           "什么年代", "哪个时间", "几几年", "日期", "在哪一年", "在哪年", "在哪一天", "在哪天", "时间", "哪个月", "哪个年份", "年份",
           "哪几天"),
    "哪里": ("在哪儿", "在哪里", "在哪", "什么地方", "哪个地方", "何处", "哪儿", "啥地方", "地点", "位置", "哪个城市",
           # asking which floor or which way is asking where
           "几楼", "几层", "哪一层", "哪层", "哪个楼层", "往哪走", "往哪边走", "往哪儿走", "哪边", "哪一边", "怎么走",
           "怎么去", "怎么过去"),
    "怎么": ("怎样", "如何", "咋", "怎么样才能", "用什么方式", "什么方式", "什么办法", "什么流程", "流程", "手续", "步骤",
           "哪些方式", "哪些途径", "什么途径", "哪些渠道", "什么渠道", "途径", "渠道", "方式", "方法", "办法",
           # "怎么办" asks how, like 怎么; its 办 is not 办理
           "怎么办", "怎么处理", "如何处理", "怎么弄", "怎么操作"),
    "收费": ("多少钱", "要钱", "花钱", "免费", "门票", "收不收费", "付费", "票价", "买票"),
    "意义": ("作用", "影响", "重要性", "历史地位", "地位", "价值", "重要"),
    "召开": ("召开的", "举行的", "举行", "举办", "开的", "开幕"),
    "成立": ("诞生", "创立", "建立", "创建", "建党", "党的生日", "建党纪念日"),
    # National Day is the anniversary of the founding ceremony.
    "开国大典": ("国庆节", "国庆日", "国庆"),
    "调动": ("调到外地", "调去外地", "调到", "调去", "调往", "调走", "调工作", "换工作", "换了工作", "换单位", "换了单位",
           "跳槽", "工作变动"),
    "卫生间": ("厕所", "洗手间", "公共厕所", "盥洗室", "卫生室", "茅房", "方便一下"),
    "拍照": ("拍照片", "照相", "摄影", "拍摄", "拍视频", "录像", "照片", "相片", "拍张照", "拍个照", "拍几张", "拍一张",
           "合影", "合照", "相机"),
    "多久": ("多长时间", "多少时间", "要多长", "几个小时", "多少分钟", "花多久", "时长", "几分钟", "多少个小时", "几个钟头",
           "几天", "多少天", "几个月", "多少个月",
           "几个钟"),
    # 几点 asks for a clock time (clock times themselves fold to it, see
    # Canonicaliser); how many sessions a day asks for the schedule.
    "几点": ("几点钟", "几场", "场次", "哪个时段", "什么时段", "时段"),
    # Visitors who are lost, or have lost someone: the hall's answer, if it
    # has one, is about that, never about "怎么办" in another entry.
    "走失": ("走丢", "走散", "丢了", "找不到人", "找不着人", "走失了"),
    "中共": ("中国共产党", "共产党", "我党", "咱们党"),
    "介绍": ("讲讲", "说说", "讲一讲", "说一说", "讲一下", "说一下", "讲解一下", "简单介绍", "是怎么回事", "怎么回事",
           "是什么事", "背景", "经过", "来历", "由来", "故事"),
    "交": ("缴纳", "缴", "交纳", "上交", "缴费", "支付"),
    "转接": ("转移", "转出", "转入", "迁移", "迁转", "转到", "转过去"),
    "预约": ("预订", "提前登记", "报名", "订票"),
    "多远": ("多长的路", "多少里", "多少公里", "路程", "距离", "走了多长"),
    "开门": ("开馆", "开放", "营业", "几点开", "上班"),
    "闭馆": ("关门", "休息日", "休息", "不开放", "几点关", "下班", "闭门"),
    "停止入场": ("不让进", "不能进", "最晚几点进", "最晚入场", "停止进入", "不让入场", "不能入场", "不让进入", "不能进入",
             "进不去", "进不了"),
    "周一": ("星期一", "礼拜一"), "周二": ("星期二", "礼拜二"), "周三": ("星期三", "礼拜三"),
    "周四": ("星期四", "礼拜四"), "周五": ("星期五", "礼拜五"), "周六": ("星期六", "礼拜六"),
    "周日": ("星期日", "星期天", "礼拜天", "礼拜日"), "周末": ("双休日", "星期六日"),
    "新中国": ("中华人民共和国", "共和国"),
    "标准": ("比例", "怎么算", "怎么计算", "算法", "计算方法", "多少比例", "百分之几", "百分比", "几个百分点"),
    "条件": ("要求", "资格", "门槛", "需要满足", "要满足", "满足什么", "具备什么", "具备哪些"),
    "申请": ("加入", "想入党", "递交"),
    "讲解": ("解说", "讲解员", "导游", "人工讲解", "讲解服务"),
    "功能": ("能做什么", "会做什么", "会干什么", "能干什么", "能帮我做什么", "能帮我干什么", "本事", "本领", "干什么用",
           # what a helper is for, however asked
           "提供哪些帮助", "提供什么帮助", "有什么帮助", "帮上什么忙", "帮什么忙", "负责干什么", "负责什么", "负责干啥",
           "有什么用", "是干什么的", "干什么的", "做哪些事情", "做哪些事", "为我做什么", "帮我做什么"),
    "入党": ("成为党员", "成为一名党员", "当党员", "成为共产党员", "加入党组织", "加入中国共产党", "加入共产党", "加入中共",
           "加入我党", "加入党"),
    "多少": ("几个", "多少名", "多少个", "有多少", "几千万", "规模"),
    "精神": ("精神内涵", "内涵"),
    "内容": ("全文", "原文", "具体内容", "全部内容", "原话", "怎么说的", "怎么说", "怎么念", "怎么背"),
    "入党誓词": ("入党宣誓", "宣誓词", "入党的誓词", "誓词"),
    "证件": ("身份证", "党员证", "有效证件", "证明"),
    "工资": ("收入", "薪水", "薪资", "月薪", "工资收入"),
    "离退休": ("退休", "离休", "退休了", "离休了"),
    "入场": ("进场", "进馆", "入馆", "进门", "进去", "进入", "进来"),
    # 一大 is the party's First National Congress, however it is called.
    "中共一大": ("第一次全国代表大会", "第一次代表大会", "第一次党代会", "党的一大", "一大"),
    "展厅": ("展馆", "展览馆", "陈列馆", "馆里", "馆内", "展厅里"),
    "网上": ("线上", "在线", "网络上", "互联网上", "网上面"),
}

# Canonical forms above that name a thing (not a question word or a verb):
# topic terms for the re-ranker, like exhibit names and party terms. A day
# of the week is one too: "周一" is asked of the entry that mentions Mondays.
NAMED_CANONICALS = ("新中国", "中共", "中共一大", "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周末")

# Canonical question words (and the bigrams they make): what kind of answer
# is wanted, not what it is about; retrieval weighs them lightly.
QUESTION_TOKENS = frozenset("何时 哪里 怎么 多少 多久 多远 什么 为什么 几点 哪个 哪些 是否".split())

# Colloquial and dialect question words, folded before the synonym table so
# that the table's variants ("什么时候", "干什么") match: 啥时候 = 什么时候.
COLLOQUIAL: tuple[tuple[str, str], ...] = (
    ("干嘛", "干什么"), ("干啥", "干什么"), ("做啥", "做什么"), ("为啥", "为什么"), ("啥", "什么"),
    ("咋样", "怎么样"), ("咋", "怎么"), ("几时", "什么时候"), ("多会儿", "什么时候"), ("哪会儿", "什么时候"),
    ("哪块儿", "哪里"), ("哪旮旯", "哪里"),
)
# A clock time ("16:30", "下午四点半", "九点钟") in a question asks about
# the hall's times, whatever the time: it folds to the question word 几点,
# and the times in the answers fold the same way.
_CLOCK_TIME = re.compile(r"(早上|上午|中午|下午|晚上|傍晚)?(\d{1,2}[:：]\d{2}|\d{1,2}点(半|\d{1,2}分?|钟)?)")
# "你会些什么", "你能帮我们做点什么": what the robot can do, however put.
_ABILITY = re.compile(r"(你|您)(都|还)?(能|会|可以)(帮|为|给|替)?(我|我们|大家|咱们)?(做|干|办)?(些|点儿|点)?"
                      r"(什么|哪些)(事情|事|忙)?")
# A-not-A questions ("开不开放", "收不收费", "要不要") ask the same as the
# plain verb: keep the verb (开放, 收费, 要) and drop the question form.
_A_NOT_A = re.compile(rf"([{CJK}])[不没]\1")

# Removed before tokenising: they say "this is a question", not which one.
FILLERS = ("请问一下", "请问", "麻烦问一下", "麻烦你", "麻烦", "我想知道", "想知道", "我想问", "想问一下", "想问",
           "问一下", "告诉我", "能不能", "可不可以", "能否", "你知道", "您知道", "知道吗", "谁知道", "一下子", "一下",
           "你好", "您好", "小党", "机器人", "给我", "帮我", "跟我", "我们", "咱们", "大家", "具体")
PARTICLES = "吗呢吧啊呀嘛哦哈么啦呗哇"
STOPWORDS = frozenset({"的", "了", "是", "吗", "呢", "吧", "啊", "呀", "我", "你", "您", "他", "她", "它", "这", "那",
                       "在", "有", "和", "与", "就", "都", "也", "还", "要", "会", "能", "可以", "个", "一个", "这个",
                       "那个", "些", "一些", "把", "被", "给", "让", "对", "从", "到", "吗", "么", "啦", "嘛", "哦",
                       "得", "地", "着", "过", "很", "最", "又", "再", "请", "想", "应该", "需要", "需不需要",
                       "是不是", "有没有", "叫", "说", "讲", "下", "里", "上", "之", "其", "为", "以"})

_PUNCT = re.compile(r"[\s\.,!?;:'\"()\[\]{}<>~`@#$%^&*_+=|\\/\-，。！？；：、“”‘’（）《》【】…·—]+")
_CJK_RUN = re.compile(rf"[{CJK}]+|[a-z0-9]+")


class Canonicaliser:
    """Folds synonyms and exhibit aliases to one form, longest match first."""

    def __init__(self, aliases: dict[str, str] | None = None, protected: Iterable[str] = (),
                 synonyms: dict[str, tuple[str, ...]] | None = None) -> None:
        table: dict[str, str] = {}
        # Whole terms map to themselves so that a synonym inside them
        # ("开放" in "改革开放") is not rewritten.
        for word in (*PARTY_TERMS, *KEPT_WORDS, *protected):
            table[normalize(word)] = normalize(word)
        synonyms = SYNONYMS if synonyms is None else synonyms
        for canonical, variants in synonyms.items():
            for variant in variants:
                table.setdefault(normalize(variant), canonical)
        for canonical in synonyms:
            # The canonical form itself stands apart too ("是多少" → "是 多少").
            table.setdefault(normalize(canonical), canonical)
        for alias, title in (aliases or {}).items():
            table[normalize(alias)] = normalize(title)
        self.table = table
        keys = sorted(table, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        fillers = sorted((normalize(f) for f in FILLERS), key=len, reverse=True)
        self._fillers = re.compile("|".join(re.escape(f) for f in fillers))

    def __call__(self, text: str) -> str:
        text = normalize(text)
        for variant, plain in COLLOQUIAL:
            text = text.replace(variant, plain)
        text = _A_NOT_A.sub(r"\1", text)
        text = _CLOCK_TIME.sub(" 几点 ", text)
        text = _ABILITY.sub(" 功能 ", text)
        # Synonyms first: some variants contain a filler ("能帮我做什么" has "帮我").
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: " " + self.table[m.group(0)] + " ", text)
        text = self._fillers.sub(" ", text)
        text = _PUNCT.sub(" ", text)
        # Sentence-final particles only: the 么 of 什么/怎么 is part of the word.
        text = re.sub(f"(?<![什怎这那多要])[{PARTICLES}](?=\\s|$)", " ", text)
        return re.sub(r"\s+", " ", text).strip()


def char_bigrams(text: str) -> list[str]:
    """Bigrams inside each run of Chinese characters; a lone character or a
    Latin/number token stands for itself. Runs do not bridge spaces, so a
    canonical word never forms a bigram with its neighbours' filler."""
    grams: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1 or not re.match(rf"[{CJK}]", run):
            if run not in STOPWORDS:
                grams.append(run)
            continue
        grams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return grams


class WordTokenizer:
    """jieba with its own dictionary instance (no global state), taught the
    exhibit names, party terms and canonical synonyms so they stay whole."""

    _lock = threading.Lock()

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._words = [normalize(w) for w in user_words if w and len(w) > 1]
        self._ready = False
        self._pos = None

    def _init(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            for word in self._words:
                # A high frequency makes jieba keep the name in one piece.
                self._jieba.add_word(word, freq=200_000)
            self._ready = True

    def proper_nouns(self, text: str) -> list[str]:
        """Names of people, places, organisations (jieba's nr / ns / nt / nz)."""
        return [w for w, flag in self._tagged(text) if flag in ("nr", "ns", "nt", "nz", "nrt") and len(w) >= 2]

    def event_names(self, text: str) -> list[str]:
        """Events and spirits named the way history names them: one word
        ending in 会议 / 起义 / 运动 … ("古田会议", "五四运动"), or a place or a
        date before one ("洛川" + "会议", "八七" + "会议", "井冈山" + "精神").
        "那次重要会议" and "打响起义" are not names."""
        tagged = self._tagged(text)
        names = []
        for i, (word, flag) in enumerate(tagged):
            if len(word) >= 4 and word.endswith(EVENT_SUFFIXES):
                names.append(word)
            elif flag in ("ns", "nr", "nz", "nt", "m") and i + 1 < len(tagged) and tagged[i + 1][0] in EVENT_SUFFIXES:
                names.append(word + tagged[i + 1][0])
        return names

    def people(self, text: str) -> list[str]:
        """Names of people (jieba's nr)."""
        return [w for w, flag in self._tagged(text) if flag in ("nr", "nrt") and len(w) >= 2]

    def _tagged(self, text: str) -> list[tuple[str, str]]:
        import jieba.posseg

        if not self._ready:
            self._init()
        if self._pos is None:
            self._pos = jieba.posseg.POSTokenizer(self._jieba)
        return [(p.word, p.flag) for chunk in text.split() for p in self._pos.lcut(chunk, HMM=True)]

    def nouns(self, text: str) -> list[str]:
        """Nouns and set phrases of two or more characters (jieba's part-of-speech tags)."""
        # n*: nouns; i / l: set phrases such as 今天天气 that jieba keeps
        # whole (four characters: shorter ones are verb phrases, 走一遍)
        return [w for w, flag in self._tagged(text)
                if (flag.startswith("n") and len(w) >= 2) or (flag in ("i", "l") and len(w) >= 4)]

    def whole_words(self, text: str) -> list[str]:
        """jieba's plain segmentation (no sub-words), content words only."""
        if not self._ready:
            self._init()
        words = []
        for chunk in text.split():
            for word in self._jieba.lcut(chunk, HMM=False):
                if len(word) >= 2 and word not in STOPWORDS and not _PUNCT.fullmatch(word):
                    words.append(word)
        return words

    def __call__(self, text: str) -> list[str]:
        if not self._ready:
            self._init()
        words = []
        for chunk in text.split():
            for word in self._jieba.cut_for_search(chunk, HMM=False):
                word = word.strip()
                if word and word not in STOPWORDS and not _PUNCT.fullmatch(word):
                    words.append(word)
        return words


# Everyday words that contain a one-character canonical form (交 = pay) but
# mean something else: kept whole, so "公交车" is not about paying.
KEPT_WORDS = ("公交", "交通", "交流", "外交", "交警", "交换", "交易", "交往", "社交", "交朋友", "提交")

EVENT_SUFFIXES = ("会议", "起义", "战役", "运动", "精神", "事变", "整风", "会师", "全会", "暴动")

PARTY_TERMS = ("三会一课", "两学一做", "不忘初心", "牢记使命", "党组织关系", "组织关系", "党费", "入党申请书", "入党积极分子",
               "发展对象", "预备党员", "正式党员", "入党誓词", "红船精神", "长征精神", "延安精神", "井冈山精神",
               "改革开放", "新民主主义革命", "社会主义", "中国特色社会主义", "党支部", "党小组", "支部党员大会",
               "支委会", "党课", "主题党日", "民主生活会", "组织生活会", "全国代表大会", "中央委员会", "建军节",
               "工农红军", "革命根据地", "农村包围城市", "实事求是", "为人民服务", "中共")
