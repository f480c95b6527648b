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


def _document(rng: np.random.Generator, seller: Seller, number: str, issued_at: int) -> Dict[str, Any]:
    lines = []
    total, total_tax = 0, 0
    for _ in range(int(rng.integers(1, 6))):
        name, unit = _GOODS[int(rng.integers(0, len(_GOODS)))]
        quantity = int(rng.integers(1, 200))
        price = int(rng.integers(100, 500_000))  # cents
        rate = TAX_RATES[int(rng.integers(0, len(TAX_RATES)))]
        amount = quantity * price
        tax = (amount * rate + 50) // 100  # half up, to the cent
        total += amount
        total_tax += tax
        lines.append({"name": name, "unit": unit, "quantity": str(quantity), "unit_price": _cents(price),
                      "amount": _cents(amount), "tax_rate": f"{rate}%", "tax": _cents(tax)})
    if rng.random() < 0.7:
        buyer: Dict[str, Any] = {"name": _company(rng), "uscc": _uscc(rng, str(rng.choice(PROVINCES)))}
    else:
        buyer = {"name": str(rng.choice(_SURNAMES)) + "先生", "uscc": None}  # a private person
    return {
        "invoice_number": number,
        "invoice_type": "电子发票（增值税专用发票）" if buyer["uscc"] else "电子发票（普通发票）",
        "issue_time_ms": issued_at,
        "seller": {"name": seller.name, "uscc": seller.uscc, "address": f"{seller.province}省某市某区某路{int(rng.integers(1, 999))}号",
                   "bank_account": f"{int(rng.integers(10**15, 10**16))}"},
        "buyer": buyer,
        "lines": lines,
        "total_amount": _cents(total),
        "total_tax": _cents(total_tax),
        "total_with_tax": _cents(total + total_tax),
        "remarks": "",
        "issuer": str(rng.choice(_SURNAMES)) + "会计",
        "check_code": f"{int(rng.integers(10**9, 10**10)):010d}{int(rng.integers(0, 10**10)):010d}",
        "tax_authority": f"国家税务总局{seller.province}税务局",
        "seller_phone": f"0{int(rng.integers(10, 99))}-{int(rng.integers(10**7, 10**8))}",
    }


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


# Records per generation chunk: each chunk draws from its own seeded stream, so a data
# set is the same whether one process or many make it.
CHUNK = 65536


def _check(count: Any, sellers: Any, seed: Any, year: Any, bad_fraction: Any, duplicate_fraction: Any) -> Tuple[float, float]:
    for name, value in (("count", count), ("sellers", sellers), ("seed", seed), ("year", year)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}")
    if count < 0 or sellers < 1:
        raise InvalidArgumentError(f"need count >= 0 and sellers >= 1, got {count} and {sellers}")
    return _fraction(bad_fraction, "bad_fraction"), _fraction(duplicate_fraction, "duplicate_fraction")


def _chunk(start: int, stop: int, sellers: int, seed: int, bad_fraction: float, duplicate_fraction: float,
           year: int, people: Optional[List[Seller]] = None, chunk: int = CHUNK) -> Generated:
    """Records start .. stop - 1 of the data set (start a multiple of CHUNK, stop within
    its chunk); positions in the result are relative to start."""
    people = _sellers(sellers, seed) if people is None else people
    count = stop - start
    rng = np.random.default_rng([seed, 2, start // chunk])
    weights = 1.0 / np.arange(1, sellers + 1)
    seller_of = rng.choice(sellers, size=count, p=weights / weights.sum())
    begin = int(np.datetime64(f"{year}-01-01", "ms").astype(np.int64))
    ids: List[str] = []
    issued = np.empty(count, dtype=np.int64)
    keys = np.empty((count, 32), dtype=np.uint8)
    sigs = np.empty((count, 64), dtype=np.uint8)
    payloads: List[bytes] = []
    duplicates: Dict[int, int] = {}
    for i in range(count):
        s = int(seller_of[i])
        issued[i] = begin + int(rng.integers(0, 365 * 86_400_000))
        if i > 0 and rng.random() < duplicate_fraction:
            j = int(rng.integers(0, i))
            while j in duplicates:  # repeat an original, so the earlier position is well defined
                j = duplicates[j]
            s, number = int(seller_of[j]), ids[j]
            seller_of[i] = s
            duplicates[i] = j
        else:
            channel = int(rng.integers(0, 10))
            number = f"{year % 100:02d}{people[s].province}{channel}{start + i + 1:015d}"
        doc = canonical_json(_document(rng, people[s], number, int(issued[i])))
        ids.append(number)
        payloads.append(doc)
        message = invoice.envelope(number, int(issued[i]), invoice.payload_hash(doc))
        sigs[i] = np.frombuffer(people[s].key.sign(message), np.uint8)
        keys[i] = np.frombuffer(people[s].key.public_key, np.uint8)
    # Spoiled signatures only on invoices no duplicate refers to, so that each spoiled
    # position is rejected for exactly one reason.
    originals = set(duplicates.values())
    bad = [i for i in range(count) if i not in duplicates and i not in originals and rng.random() < bad_fraction]
    for i in bad:
        sigs[i, 40] ^= 0x01  # a low bit of S: still below L, the equation fails
    return Generated(InvoiceBatch(ids, issued, keys, sigs, payloads), bad, duplicates)


def generate(count: int, *, sellers: int = 1000, seed: int = 2026, bad_fraction: float = 0.0,
             duplicate_fraction: float = 0.0, year: int = 2026, _chunk_len: int = CHUNK) -> Generated:
    """`count` signed invoices (see the module docstring), in memory; deterministic in
    every argument, and equal to the first `count` records of generate_file's data set
    with the same arguments. A duplicate repeats an earlier invoice of its own chunk of
    CHUNK records."""
    bad_fraction, duplicate_fraction = _check(count, sellers, seed, year, bad_fraction, duplicate_fraction)
    people = _sellers(sellers, seed)
    parts = [_chunk(start, min(count, start + _chunk_len), sellers, seed, bad_fraction, duplicate_fraction, year, people,
                    chunk=_chunk_len)
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


def _chunk_file(job: Tuple[int, int, int, int, float, float, int, str, str, int]) -> Tuple[int, int, int]:
    start, stop, sellers, seed, bad, dup, year, fmt, out, chunk = job
    from ledger_core import importers

    part = _chunk(start, stop, sellers, seed, bad, dup, year, chunk=chunk)
    (importers.write_parquet if fmt == "parquet" else importers.write_jsonl)(part.batch, out)
    return start, len(part.bad_signatures), len(part.duplicates)


def generate_file(path: str, count: int, *, sellers: int = 1000, seed: int = 2026, bad_fraction: float = 0.0,
                  duplicate_fraction: float = 0.0, year: int = 2026, format: str = "parquet",
                  processes: Optional[int] = None, _chunk_len: int = CHUNK) -> Dict[str, int]:
    """Write the data set of `generate` to `path` (Parquet or JSONL), chunks made by
    `processes` worker processes (default: all cores) and joined in order; memory is
    bounded by a few chunks. Returns counts of the planted records."""
    import multiprocessing
    import os
    import shutil
    import tempfile

    bad_fraction, duplicate_fraction = _check(count, sellers, seed, year, bad_fraction, duplicate_fraction)
    if format not in ("parquet", "jsonl"):
        raise InvalidArgumentError(f"format must be 'parquet' or 'jsonl', got {format!r}")
    workdir = tempfile.mkdtemp(prefix=".gen-", dir=os.path.dirname(os.path.abspath(path)) or ".")
    try:
        jobs = [(start, min(count, start + _chunk_len), sellers, seed, bad_fraction, duplicate_fraction, year, format,
                 os.path.join(workdir, f"{start:012d}.{format}"), _chunk_len) for start in range(0, count, _chunk_len)]
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

    from ledger_core.importers import _parquet_schema

    with pq.ParquetWriter(path, _parquet_schema()) as writer:
        for part in parts:
            writer.write_table(pq.read_table(part))


__all__ = ["generate", "generate_file", "CHUNK", "Generated", "seller_keys", "valid_uscc", "uscc_check", "org_code_check", "canonical_json",
           "TAX_RATES", "PROVINCES", "USCC_CHARSET"]
