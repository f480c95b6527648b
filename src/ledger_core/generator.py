"""A generator of realistic, signed Chinese fully digitalised e-invoices (数电票).

Deterministic from a seed: the same (count, sellers, seed, fractions) give the same
invoices byte for byte, the same seller keys included. Each invoice is the
docs/FORMAT.md record: its payload is the invoice as canonical JSON (UTF-8, sorted keys,
no spaces, amounts as decimal strings with two places, about 1 KB), its invoice_id the
20-digit invoice number, and the seller signs the envelope through libsodium.

- Invoice number: 2-digit year, 2-digit province code (GB/T 2260), the issuing channel
  digit, a 15-digit sequence.
- Parties: sellers are enterprises with an 18-character unified social credit code
  (GB 32100-2015: registration authority, organisation type, 6-digit administrative
  division, the 9-character organisation code with its GB 11714 check character, and the
  check character over the first 17); buyers are enterprises with such a code or private
  persons without one.
- Lines: 1 to 5 items at tax rates 13, 9, 6, 3, 1 or 0 %; amount = quantity x unit price
  in cents, tax = amount x rate rounded half up to the cent; the totals are the sums, so
  they add up to the cent.
- Sellers are drawn Zipf-like (p(rank k) ~ 1/k) from `sellers` keys; optional fractions
  of bad signatures (one bit of S flipped) and duplicates (a later invoice re-using an
  earlier (seller, number), signed by that seller over another document).
- `payload_bytes` pads every payload to exactly that size (ASCII in `remarks`), or, below
  the full document's size, uses a compact one (credit codes, number, time, one line,
  the total with tax), for benchmarks of payload size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ledger_core import ed25519, hashing, invoice
from ledger_core.errors import InvalidArgumentError, InvalidTypeError
from ledger_core.invoice import InvoiceBatch

# GB 32100-2015: the 31 characters of a unified social credit code (no I, O, S, V, Z),
# and the weights 3^(i-1) mod 31 of its first 17 positions.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997: the organisation code's weights; its check character is 0-9 or X.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
TAX_RATES = (13, 9, 6, 3, 1, 0)
# GB/T 2260 province-level codes.
PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
             "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")
_GOODS = (("办公用品", "批"), ("计算机设备", "台"), ("咨询服务费", "项"), ("运输服务", "次"), ("钢材", "吨"),
          ("食品", "箱"), ("软件许可", "套"), ("电力", "千瓦时"), ("建筑服务", "项"), ("印刷品", "册"),
          ("医疗器械", "件"), ("农产品", "千克"))
_NAMES = ("华信", "中科", "东方", "瑞达", "恒通", "鼎盛", "新航", "宏图", "金桥", "天元", "海川", "博远")
_KINDS = ("科技有限公司", "贸易有限公司", "实业股份有限公司", "物流有限公司", "建设工程有限公司")
_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄")


def org_code_check(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def valid_uscc(code: str) -> bool:
    """True for an 18-character code of the GB 32100 charset whose check character (and
    organisation code check character) is right."""
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        return False
    return code[17] == uscc_check(code[:17]) and code[16] == org_code_check(code[8:16])


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _uscc(rng: np.random.Generator, province: str) -> str:
    body = "".join(USCC_CHARSET[int(i)] for i in rng.integers(0, 10, 8))  # digits, as most are
    org = body + org_code_check(body)
    first17 = "91" + province + f"{int(rng.integers(1, 20)):02d}00" + org
    return first17 + uscc_check(first17)


def _company(rng: np.random.Generator) -> str:
    return str(rng.choice(_NAMES)) + str(rng.choice(_NAMES)) + str(rng.choice(_KINDS))


@dataclass(frozen=True)
class Seller:
    key: ed25519.SigningKey
    uscc: str
    name: str
    province: str


def seller_keys(count: int, seed: int) -> List[ed25519.SigningKey]:
    """The `count` seller keys of a seed: seed i is BLAKE3-derive_key("ledger_core generator
    seller v1", u64le(seed) || u64le(i))."""
    return [ed25519.SigningKey.from_seed(hashing.blake3_derive_key(
        "ledger_core generator seller v1", int(seed).to_bytes(8, "little", signed=True) + i.to_bytes(8, "little")))
        for i in range(count)]


def _sellers(count: int, seed: int) -> List[Seller]:
    rng = np.random.default_rng([seed, 1])
    out = []
    for key in seller_keys(count, seed):
        province = str(rng.choice(PROVINCES))
        out.append(Seller(key, _uscc(rng, province), _company(rng), province))
    return out


# Buyer enterprises per chunk: drawn once per chunk (their credit codes cost a check
# character each), then referenced by the chunk's invoices, as repeat customers are.
BUYERS_PER_CHUNK = 1024
# The smallest payload_bytes: the compact document with the longest numbers it can hold.
MIN_PAYLOAD_BYTES = 300


def _lines_json(line: List[List[int]], compact: bool) -> str:
    """The `lines` array of one invoice from its line columns (goods, quantity, price,
    rate, amount, tax); keys sorted: amount, name, quantity, tax, tax_rate, unit,
    unit_price (compact: amount, tax, tax_rate)."""
    out = []
    for g, q, p, r, a, t in zip(*line):
        if compact:
            out.append(f'{{"amount":"{_cents(a)}","tax":"{_cents(t)}","tax_rate":"{r}%"}}')
        else:
            name, unit = _GOODS[g]
            out.append(f'{{"amount":"{_cents(a)}","name":"{name}","quantity":"{q}","tax":"{_cents(t)}",'
                       f'"tax_rate":"{r}%","unit":"{unit}","unit_price":"{_cents(p)}"}}')
    return "[" + ",".join(out) + "]"


def _payload(fields: Dict[str, Any], lines: str, remarks: str, compact: bool) -> bytes:
    """The invoice as canonical JSON (keys sorted, no spaces, UTF-8 as is), written out
    directly: json.dumps of the same document gives the same bytes (tested)."""
    f = fields
    buyer_uscc = f'"{f["buyer_uscc"]}"' if f["buyer_uscc"] else "null"
    if compact:
        text = (f'{{"buyer":{{"uscc":{buyer_uscc}}},"invoice_number":"{f["number"]}","issue_time_ms":{f["issued"]},'
                f'"lines":{lines},"remarks":"{remarks}","seller":{{"uscc":"{f["seller_uscc"]}"}},'
                f'"total_with_tax":"{f["total_with_tax"]}"}}')
    else:
        kind = "电子发票（增值税专用发票）" if f["buyer_uscc"] else "电子发票（普通发票）"
        text = (f'{{"buyer":{{"name":"{f["buyer_name"]}","uscc":{buyer_uscc}}},"check_code":"{f["check_code"]}",'
                f'"invoice_number":"{f["number"]}","invoice_type":"{kind}","issue_time_ms":{f["issued"]},'
                f'"issuer":"{f["issuer"]}","lines":{lines},"remarks":"{remarks}",'
                f'"seller":{{"address":"{f["address"]}","bank_account":"{f["bank"]}","name":"{f["seller_name"]}",'
                f'"uscc":"{f["seller_uscc"]}"}},"seller_phone":"{f["phone"]}","tax_authority":"{f["authority"]}",'
                f'"total_amount":"{f["total"]}","total_tax":"{f["total_tax"]}","total_with_tax":"{f["total_with_tax"]}"}}')
    return text.encode("utf-8")


def canonical_json(document: Any) -> bytes:
    """The payload encoding: UTF-8 JSON, keys sorted, no spaces, non-ASCII as is."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass
class Generated:
    """A generated batch and the positions spoiled on purpose (an import must reject
    exactly these): `bad_signatures` (EQUATION_FAILED) and `duplicates` (position ->
    the earlier position whose (seller, number) it repeats)."""

    batch: InvoiceBatch
    bad_signatures: List[int] = field(default_factory=list)
    duplicates: Dict[int, int] = field(default_factory=dict)


def _fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0.0 <= value <= 0.5:
        raise InvalidArgumentError(f"{name} must be between 0 and 0.5, got {value}")
    return float(value)


# Changes whenever the same arguments would give other bytes: part of every cache name.
GENERATOR_VERSION = 2

# Records per generation chunk: each chunk draws from its own seeded stream, so a data
# set is the same whether one process or many make it.
CHUNK = 65536


def _check(count: Any, sellers: Any, seed: Any, year: Any, bad_fraction: Any, duplicate_fraction: Any,
           payload_bytes: Any = None) -> Tuple[float, float]:
    for name, value in (("count", count), ("sellers", sellers), ("seed", seed), ("year", year)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}")
    if count < 0 or sellers < 1:
        raise InvalidArgumentError(f"need count >= 0 and sellers >= 1, got {count} and {sellers}")
    if payload_bytes is not None:
        if isinstance(payload_bytes, bool) or not isinstance(payload_bytes, int):
            raise InvalidTypeError(f"payload_bytes must be an int or None, got {type(payload_bytes).__name__}")
        if not MIN_PAYLOAD_BYTES <= payload_bytes <= invoice.PAYLOAD_MAX_LEN:
            raise InvalidArgumentError(f"payload_bytes must be {MIN_PAYLOAD_BYTES}..{invoice.PAYLOAD_MAX_LEN}, "
                                       f"got {payload_bytes}")
    return _fraction(bad_fraction, "bad_fraction"), _fraction(duplicate_fraction, "duplicate_fraction")


def _chunk(start: int, stop: int, sellers: int, seed: int, bad_fraction: float, duplicate_fraction: float,
           year: int, people: Optional[List[Seller]] = None, chunk: int = CHUNK,
           payload_bytes: Optional[int] = None) -> Generated:
    """Records start .. stop - 1 of the data set (start a multiple of CHUNK, stop within
    its chunk); positions in the result are relative to start. Every random draw of the
    chunk is made up front, as arrays, from the chunk's own stream."""
    people = _sellers(sellers, seed) if people is None else people
    n = stop - start
    rng = np.random.default_rng([seed, 3, start // chunk])
    weights = 1.0 / np.arange(1, sellers + 1)
    seller_of = rng.choice(sellers, size=n, p=weights / weights.sum()).tolist()
    begin = int(np.datetime64(f"{year}-01-01", "ms").astype(np.int64))
    issued = (begin + rng.integers(0, 365 * 86_400_000, n)).tolist()
    duplicate = (rng.random(n) < duplicate_fraction).tolist()
    earlier = (rng.random(n) * np.arange(n)).astype(np.int64).tolist()  # uniform in [0, i)
    channel = rng.integers(0, 10, n).tolist()
    bad_draw = rng.random(n).tolist()
    line_count = rng.integers(1, 6, n)
    m = int(line_count.sum())
    goods, quantity = rng.integers(0, len(_GOODS), m), rng.integers(1, 200, m)
    price = rng.integers(100, 500_000, m)  # cents
    rate = np.array(TAX_RATES, dtype=np.int64)[rng.integers(0, len(TAX_RATES), m)]
    amount = quantity * price
    tax = (amount * rate + 50) // 100  # half up, to the cent
    company = (rng.random(n) < 0.7).tolist()
    buyer_of, surname = rng.integers(0, BUYERS_PER_CHUNK, n).tolist(), rng.integers(0, len(_SURNAMES), n).tolist()
    street, bank = rng.integers(1, 999, n).tolist(), rng.integers(10**15, 10**16, n).tolist()
    issuer = rng.integers(0, len(_SURNAMES), n).tolist()
    check_a, check_b = rng.integers(10**9, 10**10, n).tolist(), rng.integers(0, 10**10, n).tolist()
    phone_a, phone_b = rng.integers(10, 99, n).tolist(), rng.integers(10**7, 10**8, n).tolist()
    buyers = [(_company(rng), _uscc(rng, str(rng.choice(PROVINCES)))) for _ in range(BUYERS_PER_CHUNK)]
    first_line = np.concatenate([[0], np.cumsum(line_count)])
    lists = [goods.tolist(), quantity.tolist(), price.tolist(), rate.tolist(), amount.tolist(), tax.tolist()]
    firsts = first_line.tolist()

    ids: List[str] = []
    keys = np.empty((n, 32), dtype=np.uint8)
    sigs = np.empty((n, 64), dtype=np.uint8)
    payloads: List[bytes] = []
    duplicates: Dict[int, int] = {}
    for i in range(n):
        s = seller_of[i]
        if i > 0 and duplicate[i]:
            j = earlier[i]
            while j in duplicates:  # repeat an original, so the earlier position is well defined
                j = duplicates[j]
            s, number = seller_of[j], ids[j]
            seller_of[i] = s
            duplicates[i] = j
        else:
            number = f"{year % 100:02d}{people[s].province}{channel[i]}{start + i + 1:015d}"
        seller = people[s]
        lo, hi = firsts[i], firsts[i + 1]
        line = [col[lo:hi] for col in lists]
        buyer_name, buyer_uscc = buyers[buyer_of[i]] if company[i] else (_SURNAMES[surname[i]] + "先生", None)
        fields = {"number": number, "issued": issued[i], "buyer_name": buyer_name, "buyer_uscc": buyer_uscc,
                  "seller_uscc": seller.uscc, "seller_name": seller.name,
                  "address": f"{seller.province}省某市某区某路{street[i]}号", "bank": bank[i],
                  "issuer": _SURNAMES[issuer[i]] + "会计", "check_code": f"{check_a[i]:010d}{check_b[i]:010d}",
                  "authority": f"国家税务总局{seller.province}税务局", "phone": f"0{phone_a[i]}-{phone_b[i]}"}
        doc = _sized_payload(fields, line, payload_bytes)
        ids.append(number)
        payloads.append(doc)
        message = invoice.envelope(number, issued[i], invoice.payload_hash(doc))
        sigs[i] = np.frombuffer(seller.key.sign(message), np.uint8)
        keys[i] = np.frombuffer(seller.key.public_key, np.uint8)
    # Spoiled signatures only on invoices no duplicate refers to, so that each spoiled
    # position is rejected for exactly one reason.
    originals = set(duplicates.values())
    bad = [i for i in range(n) if i not in duplicates and i not in originals and bad_draw[i] < bad_fraction]
    for i in bad:
        sigs[i, 40] ^= 0x01  # a low bit of S: still below L, the equation fails
    return Generated(InvoiceBatch(ids, np.array(issued, dtype=np.int64), keys, sigs, payloads), bad, duplicates)


def _sized_payload(fields: Dict[str, Any], line: List[List[int]], payload_bytes: Optional[int]) -> bytes:
    """The payload: the full document (about 1 KB); with payload_bytes, padded to exactly
    that many bytes with ASCII in `remarks`, or, when the full document is longer, the
    compact one (buyer and seller credit codes, number, time, the first line's amount,
    rate and tax, the total with tax) padded likewise."""
    amount, tax = line[4], line[5]
    fields = dict(fields, total=_cents(sum(amount)), total_tax=_cents(sum(tax)),
                  total_with_tax=_cents(sum(amount) + sum(tax)))
    lines = _lines_json(line, False)
    full = _payload(fields, lines, "", False)
    if payload_bytes is None:
        return full
    if len(full) <= payload_bytes:
        return _payload(fields, lines, "#" * (payload_bytes - len(full)), False)
    one = [col[:1] for col in line]
    fields = dict(fields, total=_cents(one[4][0]), total_tax=_cents(one[5][0]),
                  total_with_tax=_cents(one[4][0] + one[5][0]))
    lines = _lines_json(one, True)
    compact = _payload(fields, lines, "", True)
    if len(compact) > payload_bytes:
        raise InvalidArgumentError(f"payload_bytes {payload_bytes} is below this invoice's compact form "
                                   f"({len(compact)} bytes); use at least {MIN_PAYLOAD_BYTES}")
    return _payload(fields, lines, "#" * (payload_bytes - len(compact)), True)


def generate(count: int, *, sellers: int = 1000, seed: int = 2026, bad_fraction: float = 0.0,
             duplicate_fraction: float = 0.0, year: int = 2026, payload_bytes: Optional[int] = None,
             _chunk_len: int = CHUNK) -> Generated:
    """`count` signed invoices (see the module docstring), in memory; deterministic in
    every argument, and equal to the first `count` records of generate_file's data set
    with the same arguments. A duplicate repeats an earlier invoice of its own chunk of
    CHUNK records. `payload_bytes` makes every payload exactly that long (see
    _sized_payload); None gives the natural documents of about 1 KB."""
    bad_fraction, duplicate_fraction = _check(count, sellers, seed, year, bad_fraction, duplicate_fraction,
                                              payload_bytes)
    people = _sellers(sellers, seed)
    parts = [_chunk(start, min(count, start + _chunk_len), sellers, seed, bad_fraction, duplicate_fraction, year, people,
                    chunk=_chunk_len, payload_bytes=payload_bytes)
             for start in range(0, count, _chunk_len)]
    if len(parts) == 1:
        return parts[0]
    from ledger_core.invoice import Invoice

    invoices: List[Invoice] = []
    bad: List[int] = []
    duplicates: Dict[int, int] = {}
    for n, part in enumerate(parts):
        base = n * _chunk_len
        invoices.extend(part.batch)
        bad.extend(base + i for i in part.bad_signatures)
        duplicates.update({base + i: base + j for i, j in part.duplicates.items()})
    return Generated(InvoiceBatch.from_invoices(invoices), bad, duplicates)


def _chunk_file(job: Tuple[int, int, int, int, float, float, int, str, str, int, Optional[int]]) -> Tuple[int, int, int]:
    start, stop, sellers, seed, bad, dup, year, fmt, out, chunk, payload_bytes = job
    from ledger_core import importers

    part = _chunk(start, stop, sellers, seed, bad, dup, year, chunk=chunk, payload_bytes=payload_bytes)
    (importers.write_parquet if fmt == "parquet" else importers.write_jsonl)(part.batch, out)
    return start, len(part.bad_signatures), len(part.duplicates)


def generate_file(path: str, count: int, *, sellers: int = 1000, seed: int = 2026, bad_fraction: float = 0.0,
                  duplicate_fraction: float = 0.0, year: int = 2026, format: str = "parquet",
                  processes: Optional[int] = None, payload_bytes: Optional[int] = None,
                  _chunk_len: int = CHUNK) -> Dict[str, int]:
    """Write the data set of `generate` to `path` (Parquet or JSONL), chunks made by
    `processes` worker processes (default: all cores) and joined in order; memory is
    bounded by a few chunks. Returns counts of the planted records."""
    import multiprocessing
    import os
    import shutil
    import tempfile

    bad_fraction, duplicate_fraction = _check(count, sellers, seed, year, bad_fraction, duplicate_fraction,
                                              payload_bytes)
    if format not in ("parquet", "jsonl"):
        raise InvalidArgumentError(f"format must be 'parquet' or 'jsonl', got {format!r}")
    workdir = tempfile.mkdtemp(prefix=".gen-", dir=os.path.dirname(os.path.abspath(path)) or ".")
    try:
        jobs = [(start, min(count, start + _chunk_len), sellers, seed, bad_fraction, duplicate_fraction, year, format,
                 os.path.join(workdir, f"{start:012d}.{format}"), _chunk_len, payload_bytes) for start in range(0, count, _chunk_len)]
        processes = processes or os.cpu_count() or 1
        if processes > 1 and len(jobs) > 1:
            with multiprocessing.get_context("spawn").Pool(min(processes, len(jobs))) as pool:
                done = pool.map(_chunk_file, jobs, chunksize=1)
        else:
            done = [_chunk_file(job) for job in jobs]
        _join([job[8] for job in jobs], path, format)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"count": count, "bad_signatures": sum(d[1] for d in done), "duplicates": sum(d[2] for d in done)}


def _join(parts: List[str], path: str, format: str) -> None:
    if format == "jsonl":
        with open(path, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while True:
                        block = f.read(1 << 22)
                        if not block:
                            break
                        out.write(block)
        return
    import pyarrow.parquet as pq

    from ledger_core.importers import PARQUET_WRITE_OPTIONS, _parquet_schema

    with pq.ParquetWriter(path, _parquet_schema(), **PARQUET_WRITE_OPTIONS) as writer:
        for part in parts:
            writer.write_table(pq.read_table(part))


__all__ = ["generate", "generate_file", "CHUNK", "MIN_PAYLOAD_BYTES", "GENERATOR_VERSION", "Generated", "seller_keys", "valid_uscc", "uscc_check", "org_code_check", "canonical_json",
           "TAX_RATES", "PROVINCES", "USCC_CHARSET"]
