#!/usr/bin/env python3
"""Writes the fuzz seed corpus, fuzz/corpus/<target>/, from the golden vectors.

Deterministic and stdlib only. Each file is named by the sha1 of its content, as libFuzzer
names the inputs it keeps. Valid, bad and JS-lenient inputs are all taken: the rejected ones
are the interesting edges. Inputs the fuzzer found crashing are kept in REGRESSIONS below and
written too, so that they stay in the corpus that the crates' unit tests replay.

    python3 fuzz/seeds.py            # add the seeds to the corpus dirs
    python3 fuzz/seeds.py --clean    # first delete every file in them (drops what libFuzzer added)
"""

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
MAX_PER_TARGET = 60

# Crashing inputs found by fuzzing, as hex, per target: (what it is, hex). Keep them forever.
REGRESSIONS: dict[str, list[tuple[str, str]]] = {}


def load(path):
    with open(ROOT / path, encoding="utf-8") as f:
        return json.load(f)


def unhex(text):
    return bytes.fromhex(text.replace(" ", ""))


def base36(text):
    """Decodes a multibase base36 ('k' prefix) string, as stream ids are written."""
    body = text[1:]
    number = int(body, 36) if body else 0
    zeros = len(body) - len(body.lstrip("0"))
    return b"\x00" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def streamid_seeds():
    """(bytes groups, string groups) from the stream id vectors, one group per kind of case."""
    raw, text = {}, {}
    for case in load("crates/streamid/testdata/js-streamid.json")["cases"]:
        inp, exp = case["input"], case["expected"]
        kind = inp["kind"]
        value = inp.get("value")
        if value is not None and inp["parser"].endswith("fromBytes"):
            raw.setdefault(kind, []).append(unhex(value))
        elif value is not None:
            text.setdefault(kind, []).append(value)
        if exp.get("bytes"):
            raw.setdefault(kind + "-expected", []).append(unhex(exp["bytes"]))
        for key in ("string", "url", "js_result", "stream_id"):
            if exp.get(key):
                text.setdefault(kind + "-expected", []).append(exp[key])
    for case in load("crates/streamid/testdata/public-vectors.json")["cases"]:
        exp = case["expected"]
        if exp.get("bytes"):
            raw.setdefault("public", []).append(unhex(exp["bytes"]))
        text.setdefault("public", []).extend(
            [exp[k] for k in ("string", "url") if exp.get(k)] + exp.get("also_parses", [])
        )
    # Stream and commit ids of other stream types (tile, CAIP-10), as strings and as bytes.
    for path in ("crates/did/testdata/js-unsigned.json", "crates/did/testdata/js-tile.json"):
        for case in load(path)["cases"]:
            exp = case["expected"]
            for commit in [exp, exp.get("genesis", {})] + exp.get("updates", []):
                for key in ("stream_id", "commit_id"):
                    if commit.get(key):
                        text.setdefault(path, []).append(commit[key])
                        raw.setdefault(path, []).append(base36(commit[key]))
    text = {k: [t.encode("utf-8") for t in v] for k, v in text.items()}
    return list(raw.values()), list(text.values())


def dagcbor_cases():
    """(name, bytes) of every dag-cbor item in the codec vectors: rejected ones carry input.hex."""
    for case in load("crates/codecs/testdata/js-dagcbor.json")["cases"]:
        hex_ = case["input"].get("hex") or case["expected"].get("hex")
        if hex_ is not None:
            yield case["name"], case["input"]["kind"], unhex(hex_)


def commit_seeds():
    tile, unsigned, blocks = [], [], []
    sources = (
        ("crates/did/testdata/js-tile.json", tile),
        ("crates/did/testdata/js-unsigned.json", unsigned),
    )
    for path, group in sources:
        for case in load(path)["cases"]:
            exp = case["expected"]
            for commit in [exp, exp.get("genesis", {})] + exp.get("updates", []):
                if commit.get("payload_hex"):
                    group.append(unhex(commit["payload_hex"]))
    for case in load("crates/codecs/testdata/js-car.json")["cases"]:
        blocks += [unhex(b["hex"]) for b in case["input"]["blocks"] if b["cid"].startswith("bafy")]
    cbor = list(dagcbor_cases())
    shaped = [b for name, _, b in cbor if "commit" in name or "anchor" in name or "shaped" in name]
    rejected = [b for _, kind, b in cbor if kind in ("bad", "js-lenient")]
    maps = [b for name, kind, b in cbor if "map" in name and kind == "encode"]
    return [tile, unsigned, blocks, shaped, rejected, maps]


def envelope_seeds():
    tile, blocks = [], []
    for case in load("crates/did/testdata/js-tile.json")["cases"]:
        exp = case["expected"]
        tile += [unhex(c["envelope_hex"]) for c in [exp["genesis"]] + exp["updates"]]
    for case in load("crates/codecs/testdata/js-car.json")["cases"]:
        blocks += [unhex(b["hex"]) for b in case["input"]["blocks"] if b["cid"].startswith("bagcq")]
    cbor = list(dagcbor_cases())
    shaped = [b for name, _, b in cbor if "jws" in name or "cid" in name]
    rejected = [b for _, kind, b in cbor if kind in ("bad", "js-lenient")]
    return [tile, blocks, shaped, rejected]


def varint(data, at):
    """Reads an unsigned LEB128 varint at `at`: (value, offset after it)."""
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


def car_seeds():
    seeds = []
    for case in load("crates/codecs/testdata/js-car.json")["cases"]:
        car = unhex(case["expected"]["car_hex"])
        header_len, start = varint(car, 0)
        header_end = start + header_len
        seeds.append(car)
        seeds.append(car[:header_end])  # the header alone: a CAR with no blocks
        seeds.append(car[: header_end - 1])  # truncated inside the header
        if len(car) > header_end:
            block_len, block_start = varint(car, header_end)
            seeds.append(car[:-1])  # truncated inside the last block
            seeds.append(car[: block_start + 3])  # truncated inside the first block's CID
            seeds.append(car[:header_end] + b"\x00")  # a zero-length block section
            # The first block's length varint written non-minimally (one extra 0x80 byte).
            long = bytearray(car[header_end:block_start])
            long[-1] |= 0x80
            seeds.append(car[:header_end] + bytes(long) + b"\x00" + car[block_start:])
    return seeds


def did_key_seeds():
    good, bad = [], []
    for case in load("crates/did/testdata/js-didkey.json")["cases"]:
        did = case["expected"].get("did") or case["input"].get("did")
        if did:
            (good if case["input"]["kind"] in ("didkey", "resolve") else bad).append(did.encode())
    return [good, bad]


def signed_commit_seeds():
    """Envelope and payload blocks joined as the target reads them: u16 BE envelope length,
    envelope, payload."""
    seeds = []
    for case in load("crates/did/testdata/js-tile.json")["cases"]:
        exp = case["expected"]
        for c in [exp["genesis"]] + exp["updates"]:
            env, payload = unhex(c["envelope_hex"]), unhex(c["payload_hex"])
            seeds.append(len(env).to_bytes(2, "big") + env + payload)
            seeds.append(c["protected_json"].encode())
    return [seeds]


def pick(groups):
    """Up to MAX_PER_TARGET distinct seeds, taken in turn from each group so that all are seen."""
    kept = {}
    for i in range(max(map(len, groups))):
        for group in groups:
            if i < len(group) and len(kept) < MAX_PER_TARGET:
                kept.setdefault(group[i])
    return list(kept)


def write(target, groups, clean):
    seeds = pick(groups) + [unhex(h) for _, h in REGRESSIONS.get(target, [])]
    out = CORPUS / target
    out.mkdir(parents=True, exist_ok=True)
    if clean:
        for old in out.iterdir():
            old.unlink()
    names = {hashlib.sha1(seed).hexdigest(): seed for seed in seeds}
    for name, seed in names.items():
        (out / name).write_bytes(seed)
    print(f"{target}: {len(names)} seeds")


def main():
    clean = "--clean" in sys.argv[1:]
    raw, text = streamid_seeds()
    write("streamid_from_bytes", raw, clean)
    write("streamid_from_str", text, clean)
    write("codecs_decode_commit", commit_seeds(), clean)
    write("codecs_decode_envelope", envelope_seeds(), clean)
    write("codecs_read_car", [car_seeds()], clean)
    write("did_parse_did_key", did_key_seeds(), clean)
    write("did_verify_signed_commit", signed_commit_seeds(), clean)


if __name__ == "__main__":
    main()
