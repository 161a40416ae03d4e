"""Typed Chinese addresses -> a building (and entrance, floor, unit), with a confidence. Pure.

People type "解放街道章江路216号1栋2单元501", "章江路216号1幢501室", "章江花园1栋", "张江路216-1" (a typo)...
Each input is normalised (full-width digits, 幢/座/号楼 -> 栋, Chinese numerals), split into its parts (street or
compound text, number 号, building 栋, entrance 单元, room), and scored against every building of the community
gazetteer: the text fuzzily (rapidfuzz), the numbers exactly. When the best two are close, or the best is weak, the
answer is ambiguous and carries the candidates: a dispatcher never gets a silent guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

# Weights of the parts that were typed; a part not typed neither helps nor hurts.
WEIGHTS = {"text": 0.5, "number": 0.3, "building": 0.2}
ACCEPT_AT = 0.8  # below this the best candidate is not trusted on its own
MARGIN = 0.06  # a runner-up this close makes the input ambiguous
MIN_CANDIDATE = 0.4  # weaker than this is not worth showing

_ADDRESS = re.compile(r"^(?P<street>.*?)(?P<number>\d+)号(?:(?P<building>\d+)栋)?$")
_PARTS = re.compile(
    r"^(?P<text>(?:[^\d]|\d+(?=[巷弄]))*)"
    r"(?:(?P<number>\d+)(?:号|-))?"
    r"(?:(?P<building>\d+)栋-?|(?P<building_dash>\d{1,2})(?:-|$))?"
    r"(?:(?P<entrance>\d+)单元-?|(?P<entrance_dash>\d)-)?"
    r"(?:(?P<room>\d{3,4})室?)?$"
)
_NUMBER_ONLY = re.compile(r"^(?P<text>(?:[^\d]|\d+(?=[巷弄]))*)(?P<number>\d+)号?$")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+(?=[号栋幢座单元楼室层巷弄])")


@dataclass(frozen=True)
class GazetteerEntry:
    building_id: str
    address: str  # e.g. 江西省赣州市章贡区解放街道章江路216号1栋
    zone_name: str = ""
    entrances: int = 1
    floors: int = 1


@dataclass(frozen=True)
class ParsedAddress:
    text: str
    number: int | None
    building: int | None
    entrance: int | None
    room: str | None

    @property
    def floor(self) -> int | None:
        return int(self.room[:-2]) if self.room else None


@dataclass(frozen=True)
class AddressCandidate:
    building_id: str
    address: str
    score: float


@dataclass(frozen=True)
class AddressMatch:
    """`building_id` is None when the input is ambiguous or matches nothing; `candidates` then say what it could be."""

    building_id: str | None
    confidence: float
    parsed: ParsedAddress
    candidates: tuple[AddressCandidate, ...]

    @property
    def ambiguous(self) -> bool:
        return self.building_id is None


def _cn_to_int(text: str) -> int:
    if all(ch in _DIGITS for ch in text):  # 二一六 = 216
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s,，.。、#＃()（）]+", "", text)
    text = _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group(0))), text)
    text = text.replace("号楼", "栋").replace("幢", "栋").replace("座", "栋").replace("单元", "单元")
    return re.sub(r"(\d+)(?:楼|层)(\d{2})室?$", lambda m: f"{m.group(1)}{m.group(2)}", text)


def _split_street(address: str) -> tuple[str, int | None, int | None]:
    m = _ADDRESS.match(address)
    if not m:
        return address, None, None
    building = m.group("building")
    return m.group("street"), int(m.group("number")), int(building) if building else None


class Gazetteer:
    def __init__(self, entries: Iterable[GazetteerEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: e.building_id)
        prefix = _common_prefix([e.address for e in self.entries]) if len(self.entries) > 1 else ""
        # The administrative prefix every address shares (province ... street office), and each of its pieces.
        pieces = re.findall(r".+?(?:省|市|区|县|街道|镇|乡)", prefix)
        self._prefixes = sorted(
            {p for piece in pieces for p in (piece, re.sub(r"(省|市|区|县|街道|镇|乡)$", "", piece))}, key=len
        )
        # Per building: (entry, street, number 号, building 栋), normalised like typed input.
        self.parts: list[tuple[GazetteerEntry, str, int | None, int | None]] = [
            (e, *_split_street(normalise(e.address[len(prefix) :] if prefix else e.address))) for e in self.entries
        ]

    def strip_prefix(self, text: str) -> str:
        """Drop the administrative prefix (all of it, or any of its pieces, longest first)."""
        while stripped := next((p for p in reversed(self._prefixes) if p and text.startswith(p)), None):
            text = text[len(stripped) :]
        return text

    def parse(self, typed: str) -> ParsedAddress:
        text = self.strip_prefix(normalise(typed))
        if only := _NUMBER_ONLY.match(text):  # "章江路216": a street number, not a room
            return ParsedAddress(only.group("text"), int(only.group("number")), None, None, None)
        m = _PARTS.match(text)
        if m is None:
            return _loose_parse(text)

        def num(*names: str) -> int | None:
            value = next((m.group(n) for n in names if m.group(n)), None)
            return int(value) if value else None

        return ParsedAddress(
            m.group("text"),
            num("number"),
            num("building", "building_dash"),
            num("entrance", "entrance_dash"),
            m.group("room"),
        )

    def match(self, typed: str, limit: int = 5) -> AddressMatch:
        parsed = self.parse(typed)
        scored: list[AddressCandidate] = []
        for entry, street, number, building in self.parts:
            got, weight = 0.0, 0.0
            if parsed.text:
                got += WEIGHTS["text"] * _text_similarity(parsed.text, street, entry.zone_name)
                weight += WEIGHTS["text"]
            if parsed.number is not None:
                got += WEIGHTS["number"] * float(parsed.number == number)
                weight += WEIGHTS["number"]
            if parsed.building is not None:
                got += WEIGHTS["building"] * float(parsed.building == building)
                weight += WEIGHTS["building"]
            if weight == 0:
                break
            score = got / weight
            # A door that cannot exist in this building makes it a worse fit, not an impossible one (typos).
            if parsed.entrance is not None and parsed.entrance > entry.entrances:
                score *= 0.9
            if parsed.floor is not None and parsed.floor > entry.floors:
                score *= 0.9
            scored.append(AddressCandidate(entry.building_id, entry.address, round(score, 4)))
        scored.sort(key=lambda c: (-c.score, c.building_id))
        if not scored:
            return AddressMatch(None, 0.0, parsed, ())
        best = scored[0]
        close = [c for c in scored[1:] if c.score >= best.score - MARGIN]
        # Everything typed matching one building exactly is an answer even if near misses exist (二巷 vs 十二巷).
        exact = best.score == 1.0 and not [c for c in close if c.score == 1.0]
        if best.score >= ACCEPT_AT and (exact or not close):
            return AddressMatch(best.building_id, best.score, parsed, tuple(scored[:1]))
        shortlist = [c for c in scored if c.score >= max(best.score - 0.2, MIN_CANDIDATE)][:limit]
        return AddressMatch(None, best.score, parsed, tuple(shortlist))


def _loose_parse(text: str) -> ParsedAddress:
    """Input the strict pattern cannot read (a typo where a marker should be): pick each marked part out alone."""
    found: dict[str, str] = {}
    for name, pattern in (
        ("number", r"(\d+)号"),
        ("building", r"(\d+)栋"),
        ("entrance", r"(\d+)单元"),
        ("room", r"(\d{3,4})室?$"),
    ):
        m = re.search(pattern, text)
        if m:
            found[name] = m.group(1)
            text = text[: m.start()] + text[m.end() :]
    return ParsedAddress(
        re.sub(r"[\d号栋]+$", "", text),
        int(found["number"]) if "number" in found else None,
        int(found["building"]) if "building" in found else None,
        int(found["entrance"]) if "entrance" in found else None,
        found.get("room"),
    )


def _text_similarity(typed: str, street: str, zone: str) -> float:
    """Typed text against a street and/or compound name; a whole name typed exactly beats a part of a longer one."""
    options = [fuzz.ratio(typed, street), fuzz.ratio(typed, zone + street)]
    if zone:
        options.append(fuzz.ratio(typed, zone))
    if len(typed) >= 2:
        options.append(0.9 * fuzz.partial_ratio(typed, zone + street))
    return max(options) / 100.0


def _common_prefix(texts: list[str]) -> str:
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    # Cut back to the last administrative suffix: never eat into a street name the addresses happen to share.
    m = re.match(r"^(.*(?:省|市|区|县|街道|镇|乡))", prefix)
    return m.group(1) if m else ""
