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
REGRESSIONS: dict[str, list[tuple[str, str]]] = {
    "bitswap_message": [
        ("prefix whose codec varint overflows u64 (decoded, then re-encoded otherwise)",
         "4101ffffcaca8fffffffff751220"),
    ],
    "engine_hostile_log": [
        ("data commits whose integers overflow the test doctype's i64 sum (it panicked)",
         "000105000001000101000201b6b6b6b6b6002d00feffff2c2c2c2c2c2cb6b6b6b6b6b6b6b6b6b6b6b6b6b6b6"
         "b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b602b6b6aaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab6b6b602008a000000000000b6b6b6"
         "b6b6b6b6b6b6b6b6b6b6b6002d00010102010203040100000000000002050102b6b6b6b6b6b6b6b6b6b6b6b6"
         "b6b6b6b6b6b6b6b6b6b6b6b6b6b6002d00010102010203040100000000000002050102b6b6b6b6b6b6b6b6b6"
         "b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b60003a1616101020700010000000000020501022ba1616101"
         "02070001001700b60000000000000009"),
    ],
}


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


# dag-cbor link proofs signed by test keys (crates/doctype-caip10 test_utils::key(3..=5)):
# a link, an unlink (empty DID) and a did:3 link on another chain.
CAIP10_PROOFS = [
    "a664747970656c657468657265756d2d656f61676163636f756e7478336569703135353a313a307839333837366162333936393466613134656630343133366534306262663663333133316233303332676d65737361676578734c696e6b2074686973206163636f756e7420746f20796f7572206964656e746974790a0a6469643a6b65793a7a364d6b656852676637794a62676147665973646f41734b6442504533646a324359686f775164636a71534a67765664200a54696d657374616d703a20313730303030303030306776657273696f6e02697369676e617475726578843078303439393032363563396261383432626233643065383832613537373130653536383162666461363864616436386338656433653566343364313262646134323333363039636434356331666236336539663837613437653737343463396531363935633537333630383930336530353063626563306166366162636135386331626974696d657374616d701a6553f100",
    "a664747970656c657468657265756d2d656f61676163636f756e7478356569703135353a3130303a307830333137613866393437336331356664363561663266373636646633336538616366336666326666676d65737361676578324c696e6b2074686973206163636f756e7420746f20796f7572206964656e746974790a0a200a54696d657374616d703a20316776657273696f6e02697369676e617475726578843078636238323638373035656133623230393935326563373861613434346461306139313461663735623537626531616162366330633439333636393864386333643437373464336631303066323233396365373034363533383234653338386639613630653838626339383865373235383938623133336430313465616235666331636974696d657374616d7001",
    "a664747970656c657468657265756d2d656f61676163636f756e7478336569703135353a353a307866366563623738356162633730646233333636313461363761626662313237643164356335633764676d65737361676578774c696e6b2074686973206163636f756e7420746f20796f7572206964656e746974790a0a6469643a333a6b6a7a6c36637765316a7731343764767131367a6c756f6a6d7261717677646d626836316478396530633539693334346c6372736771666f68657870363073200a54696d657374616d703a20306776657273696f6e02697369676e617475726578843078623763363164663639623963366531326332653464393663363563353932636264383665656530386562343461343563643036656364333330613839393031653665383536356432383261616561616664366233656231353838623536333365386138613563336437666264653363643366636337346537616562373636356131626974696d657374616d7000",
]


def caip10_seeds():
    proofs = [unhex(h) for h in CAIP10_PROOFS]
    cbor = list(dagcbor_cases())
    maps = [b for name, kind, b in cbor if "map" in name and kind == "encode"]
    return [proofs, [p[:-3] for p in proofs], maps]


def anchor_eth_rpc_seeds():
    """Real anvil JSON-RPC answers: whole bodies, bare results, and cut or altered bodies."""
    bodies, results, broken = [], [], []
    for case in load("crates/anchor-eth/testdata/anvil-rpc.json")["cases"]:
        body = case["input"]["body"]
        bodies.append(body.encode())
        result = json.loads(body).get("result")
        if isinstance(result, dict):
            results.append(json.dumps(result).encode())
        broken.append(body[: len(body) // 2].encode())
        broken.append(body.replace('"0x', '"0x0').encode())  # quantities with leading zeros
        broken.append(body.replace('"0x', '"').encode())  # no prefix
    return [bodies, results, broken]
def cbor_head(major, n):
    """A dag-cbor item head: major type and argument, shortest form."""
    if n < 24:
        return bytes([major << 5 | n])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor_text(text):
    data = text.encode()
    return cbor_head(3, len(data)) + data


def cbor_link(cid):
    return b"\xd8\x2a" + cbor_head(2, len(cid) + 1) + b"\x00" + cid


def uvarint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def dag_cbor_cid(data):
    return b"\x01\x71\x12\x20" + hashlib.sha256(data).digest()


def anchor_request_car(stream_id, tip, timestamp):
    """A CAS v2 CAR request body: root block {streamId: bytes, timestamp, tip: link}."""
    root = (cbor_head(5, 3) + cbor_text("tip") + cbor_link(tip) + cbor_text("streamId")
            + cbor_head(2, len(stream_id)) + stream_id + cbor_text("timestamp") + cbor_text(timestamp))
    cid = dag_cbor_cid(root)
    header = (cbor_head(5, 2) + cbor_text("roots") + cbor_head(4, 1) + cbor_link(cid)
              + cbor_text("version") + cbor_head(0, 1))
    return uvarint(len(header)) + header + uvarint(len(cid) + len(root)) + cid + root


def anchor_service_seeds():
    """JSON and CAR anchor request bodies: valid ones made from the stream id vectors, broken
    ones (bad ids, bad times, wrong types), and the codec CAR vectors."""
    _, text = streamid_seeds()
    texts = [t.decode("utf-8", "replace") for group in text for t in group]
    stream_ids = list(dict.fromkeys(t for t in texts if t.startswith("k") and len(t) < 70))[:6]
    cid = "bafyreib3kxq7j5sxmqd4ek2mu6tt3yffwgfmw7wyqe6sxucjwvd7b5ojxe"
    tip = dag_cbor_cid(b"tip")
    json_bodies, car_bodies = [], []
    for sid in stream_ids:
        for body in ({"streamId": sid, "cid": cid, "timestamp": "2024-01-02T03:04:05.678Z"},
                     {"streamId": sid, "cid": cid},
                     {"streamId": sid, "cid": cid, "timestamp": "2024-13-02T03:04:05Z"},
                     {"streamId": sid, "cid": 7},
                     {"streamId": sid, "cid": cid[:-3], "jsCeramicVersion": "5.0.0"}):
            json_bodies.append(json.dumps(body).encode())
        car_bodies.append(anchor_request_car(base36(sid), tip, "2024-01-02T03:04:05+02:00"))
        car_bodies.append(anchor_request_car(base36(sid)[:-1], tip, "not a time"))
    json_bodies += [b"{", b"[]", b"null", b'{"streamId": null}']
    return [json_bodies, car_bodies, car_seeds()]
def anchor_service_response_seeds():
    """A remote CAS's answers as a node reads them: each status, COMPLETED with a witness CAR
    (padded and unpadded base64), the real CAS's UUID ids and ms dates, broken ones, and
    supported-chains bodies."""
    import base64
    _, text = streamid_seeds()
    texts = [t.decode("utf-8", "replace") for group in text for t in group]
    stream_ids = list(dict.fromkeys(t for t in texts if t.startswith("k") and len(t) < 70))[:4]
    cid = "bafyreib3kxq7j5sxmqd4ek2mu6tt3yffwgfmw7wyqe6sxucjwvd7b5ojxe"
    anchor = cid_text(0x71, b"anchor")
    cars = car_seeds()[:4]
    good, broken = [], []
    for sid in stream_ids:
        base = {"id": cid, "streamId": sid, "cid": cid, "message": "Request is pending.",
                "createdAt": 1700000000000, "updatedAt": 1700000000001}
        for status in ("PENDING", "PROCESSING", "READY", "FAILED", "REPLACED"):
            good.append(json.dumps(dict(base, status=status)).encode())
        for car in cars:
            witness = base64.b64encode(car).decode()
            good.append(json.dumps(dict(base, status="COMPLETED", anchorCommit={"cid": anchor},
                                        witnessCar=witness.rstrip("="))).encode())
            good.append(json.dumps(dict(base, id="6c5e0f0a-8a4e-4b41-9d4c-1f1c3e8a9f10",
                                        status="COMPLETED", anchorCommit={"cid": anchor},
                                        witnessCar=witness)).encode())
        broken.append(json.dumps(dict(base, status="COMPLETED")).encode())
        broken.append(json.dumps(dict(base, status="ANCHORED")).encode())
        broken.append(json.dumps(dict(base, status="COMPLETED", anchorCommit={"cid": anchor},
                                      witnessCar="@@@")).encode())
        broken.append(json.dumps(dict(base, cid=cid[:-3], status="PENDING")).encode())
    chains = [b'{"supportedChains":["eip155:1337"]}', b'{"supportedChains":[]}',
              b'{"supportedChains":[1]}', b"{}", b"<html>503</html>", b""]
    return [good, broken, chains]


def http_api_seeds():
    """Request bodies as @ceramicnetwork/http-client sends them, from the JS commit vectors:
    create and apply bodies with signed containers, unsigned genesis commits, a multiquery,
    and broken variants (a linkedBlock that does not hash to the link, a bad base64)."""
    import base64

    def b64(data):
        return base64.b64encode(data).decode().rstrip("=")

    def dump(value):
        return json.dumps(value, separators=(",", ":")).encode()

    create, apply, broken = [], [], []
    for case in load("crates/did/testdata/js-tile.json")["cases"]:
        exp = case["expected"]
        genesis = exp["genesis"]
        container = {"jws": genesis["jws"], "linkedBlock": b64(unhex(genesis["payload_hex"]))}
        create.append(dump({"type": 0, "genesis": container, "opts": {"anchor": True, "publish": True, "sync": 0}}))
        for update in exp["updates"]:
            c = {"jws": update["jws"], "linkedBlock": b64(unhex(update["payload_hex"]))}
            apply.append(dump({"streamId": genesis["stream_id"], "commit": c, "opts": {}}))
        bad = dict(container, linkedBlock=b64(unhex(genesis["payload_hex"])[:-1]))
        broken.append(dump({"type": 0, "genesis": bad}))
        broken.append(dump({"type": 0, "genesis": dict(container, linkedBlock="%%")}))
        broken.append(dump(container["jws"]))
    unsigned = []
    for case in load("crates/did/testdata/js-unsigned.json")["cases"]:
        exp = case["expected"]
        unsigned.append(dump({"type": 0, "genesis": exp["payload_dagjson"]}))
        unsigned.append(dump({"queries": [{"streamId": exp["stream_id"], "genesis": exp["payload_dagjson"], "paths": ["/a/b"]}], "timeout": 1000}))
    # Admin JWS in compact form (the `Authorization: Basic` value): signed commit JWS, and cut.
    admin = []
    for case in load("crates/did/testdata/js-tile.json")["cases"]:
        jws = case["expected"]["genesis"]["jws"]
        sig = jws["signatures"][0]
        text = f'{sig["protected"]}.{jws["payload"]}.{sig["signature"]}'
        admin += [text.encode(), text[: len(text) // 2].encode(), (text + ".x").encode()]
    return [create, apply, unsigned, broken, admin]
def pb_varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def pb_field(tag, wire, value):
    """One protobuf field: wire 0 takes an int, wire 2 bytes."""
    key = pb_varint(tag << 3 | wire)
    return key + (pb_varint(value) if wire == 0 else pb_varint(len(value)) + value)


def bitswap_frame(body):
    return pb_varint(len(body)) + body


def bitswap_seeds():
    """Bitswap messages: the frames helia sent (crates/bitswap/testdata/helia-frames.json), and
    messages built here field by field like the ones our encoder writes, each as a frame and as
    a bare body; then damaged ones; then block prefix + bytes inputs (first byte: prefix length)."""
    helia = [unhex(c["input"]["hex"]) for c in load("crates/bitswap/testdata/helia-frames.json")["cases"]]
    cid = unhex(
        "0171122057838170e85c23e66518a5609600258807b7c6f16541145d2274c9b1d784c3ce"
    )
    data = unhex("a264746578746c727573742d696e7465726f706568656c6c6f6a66726f6d2068656c6961")

    def entry(want_type, cancel=0, dont_have=1):
        fields = pb_field(1, 2, cid) + pb_field(2, 0, 1)
        if cancel:
            fields += pb_field(3, 0, 1)
        return pb_field(1, 2, fields + pb_field(4, 0, want_type) + pb_field(5, 0, dont_have))

    built = [
        pb_field(1, 2, entry(1)),  # want-have, send-dont-have
        pb_field(1, 2, entry(0, cancel=1, dont_have=0)),  # cancel
        pb_field(1, 2, entry(0) + entry(1) + pb_field(2, 0, 1)),  # full wantlist
        pb_field(4, 2, pb_field(1, 2, cid) + pb_field(2, 0, 0)),  # Have
        pb_field(4, 2, pb_field(1, 2, cid) + pb_field(2, 0, 1)),  # DontHave
        pb_field(3, 2, pb_field(1, 2, bytes([1, 0x71, 0x12, 0x20])) + pb_field(2, 2, data)),
        pb_field(3, 2, pb_field(1, 2, bytes([1, 0x55, 0x00, 4])) + pb_field(2, 2, b"abcd")),  # identity
        pb_field(2, 2, b"\x0a\x02hi") + pb_field(5, 0, 77),  # 1.0.0 block (CIDv0), pendingBytes
    ]
    bad = [
        pb_field(1, 2, pb_field(1, 2, pb_field(1, 2, cid) + pb_field(4, 0, 7))),  # want type 7
        pb_field(4, 2, pb_field(1, 2, cid[:-3]) + pb_field(2, 0, 1)),  # short CID
        pb_field(3, 2, pb_field(1, 2, bytes([1, 0x71, 0x1E, 0x20])) + pb_field(2, 2, data)),  # blake3
        pb_field(3, 2, pb_field(1, 2, bytes([1, 0x71, 0x12])) + pb_field(2, 2, data)),  # short prefix
    ]
    frames = [bitswap_frame(b) for b in helia + built]
    damaged = [f[:-2] for f in frames[:4]] + [bitswap_frame(b) for b in bad]
    damaged.append(b"\x80\x80\x80\x04")  # 8 MiB announced, nothing follows
    prefixes = [
        bytes([4, 1, 0x71, 0x12, 0x20]) + data,
        bytes([4, 1, 0x55, 0x00, 3]) + b"abc",
        bytes([4, 0, 0x70, 0x12, 0x20]) + b"\x0a\x00",
        bytes([4, 1, 0x71, 0x13, 0x40]) + data,
    ]
    return [frames, helia + built, damaged, prefixes]
def net_pubsub_seeds():
    """Ceramic pubsub messages (notes section 4.1): each type, valid and refused edges."""
    stream = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s"
    tip = "bagcqcerakszw2vsovxznyp5gfnpdj4cqm2xiv76yd24wkjewhhykovorwo6a"
    qid = "EiDO7KTOiiWv1mPOp5vJVhkpIcaPVeSNFaO6vA5M6Um4Fw"
    valid = [
        {"typ": 0, "stream": stream, "tip": tip},
        {"typ": 0, "stream": stream, "tip": tip, "model": stream, "doc": "x"},
        {"typ": 1, "id": qid, "stream": stream},
        {"typ": 2, "id": qid, "tips": {stream: tip}},
        {"typ": 3, "ts": 1700000000000, "ver": "2.0.0", "ipfsVer": "0.20.0"},
    ]
    bad = [
        {"typ": 1, "id": "x", "stream": stream, "extra": 1},
        {"typ": 2, "id": qid, "tips": [tip]},
        {"typ": 7},
        {"typ": -1, "stream": stream},
        {"typ": 0, "stream": stream[:-1], "tip": tip},
    ]
    enc = lambda v: json.dumps(v, separators=(",", ":")).encode()
    return [[enc(v) for v in valid], [enc(v) for v in bad] + [b"[1]", b"{"]]


def pseudo_random(label, count, size):
    """Deterministic filler bytes (sha256 in counter mode), for scripts the fuzzer mutates."""
    out = []
    for i in range(count):
        data = b""
        n = 0
        while len(data) < size:
            data += hashlib.sha256(f"{label}/{i}/{n}".encode()).digest()
            n += 1
        out.append(data[: size // (i % 3 + 1)])
    return out


def tile_vectors():
    """(genesis, updates) of the js-tile vectors: each commit as (payload, envelope, vector)."""
    for case in load("crates/did/testdata/js-tile.json")["cases"]:
        exp = case["expected"]
        commit = lambda c: (unhex(c["payload_hex"]), unhex(c["envelope_hex"]), c)
        yield commit(exp["genesis"]), [commit(u) for u in exp["updates"]]


def engine_seeds():
    """Scripts for ceramic_engine::fuzzing::hostile_log. Real commits enter as raw-block steps
    (kind 5: codec byte, [stream byte once a stream exists], u16 length, bytes, then a write
    flag and an Expect byte): a JS client's signed Tile genesis and updates, held back or
    written; unsigned genesis commits; then harness-built steps and filler."""
    def raw(codec, data, streams, write, expect=2):
        step = bytes([5, codec]) + (b"\x00" if streams else b"") + len(data).to_bytes(2, "big") + data
        return step + (bytes([1, expect]) if write else b"\x00")

    real, tails = [], pseudo_random("engine", 12, 96)
    for (g_payload, g_env, _), updates in tile_vectors():
        script = raw(0, g_payload, False, False) + raw(1, g_env, False, True, expect=0)
        for payload, env, _ in updates:
            script += raw(0, payload, True, False) + raw(1, env, True, True)
        real.append(script + bytes([7, 0, 1, 1]))  # then a load at a commit
        # The same log offered by a peer: genesis written, updates held, then the tip.
        held = raw(0, g_payload, False, False) + raw(1, g_env, False, True, expect=0)
        for payload, env, _ in updates:
            held += raw(0, payload, True, False) + raw(1, env, True, False)
        real.append(held + bytes([6, 0, 1, 0]))
        real.append(script + tails[len(real) % len(tails)])
    unsigned = []
    for case in load("crates/did/testdata/js-unsigned.json")["cases"]:
        payload = unhex(case["expected"]["payload_hex"])
        unsigned.append(raw(0, payload, False, True, expect=0) + bytes([2, 0, 0, 0, 0, 3]))
    scripted = [bytes([
        0, 1, 5, 0, 0, 1, 0, 1, 1, 0, 2, 1, 2, 1,
        2, 0, 0, 1, 1, 1, 5, 0, 0,
        6, 0, 1, 0,
        4, 0, 0, 2, 0, 1, 1, 2, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 2,
        5, 0, 0, 0, 3, 0xA1, 0x61, 0x61, 1, 2,
        7, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
    ])]
    # Harness-built logs: a Tile genesis with a schema as content, a Tile naming it, patches.
    built = [bytes([0, 0, 4, 3, 0, 0, 0, 1, 1, 0, 1, 3, 0, 1, 2, 1, 0, 1, 1, 2])
             + bytes([0, 0, 4, 0, 0, 0, 0, 1, 1, 0, 2, 6, 2, 4, 5, 1, 2])
             + bytes([2, 1, 0, 1, 1, 3, 2, 2, 1, 4, 1, 2, 3, 0, 1, 5, 1, 2] * 3)
             + t for t in tails[:6]]
    return [real, unsigned, scripted, built, tails]


def cid_text(codec, data):
    """The base32 text of a CIDv1 with a sha2-256 of `data` (multibase 'b')."""
    import base64
    raw = b"\x01" + uvarint(codec) + b"\x12\x20" + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def grpc_seeds():
    """Request sequences for ceramic_grpc::fuzzing::requests, each request
    [method][u16 length][protobuf], from the js-tile vectors: create, apply, load, list, pin."""
    def req(method, body=b""):
        return bytes([method]) + len(body).to_bytes(2, "big") + body

    def block(data, codec):
        return pb_field(1, 2, cid_text(codec, data).encode()) + pb_field(2, 2, data)

    def commit(payload, env, vector):
        return (pb_field(1, 0, 0) + pb_field(2, 2, vector["envelope_cid"].encode())
                + pb_field(3, 2, block(env, 0x85)) + pb_field(3, 2, block(payload, 0x71)))

    full, short, broken = [], [], []
    for (payload, env, g), updates in tile_vectors():
        sid = g["stream_id"].encode()
        script = req(0, commit(payload, env, g)) + req(2, pb_field(1, 2, sid))
        for u_payload, u_env, u in updates:
            script += req(1, commit(u_payload, u_env, u))
        script += (req(3, pb_field(1, 2, sid)) + req(4, pb_field(1, 2, sid)) + req(6)
                   + req(7, pb_field(5, 0, 10)) + req(7, pb_field(1, 2, b"did:key:z6Mk"))
                   + req(2, pb_field(1, 2, g["commit_id"].encode()) + pb_field(2, 0, 1700000000))
                   + req(10, pb_field(1, 2, sid)) + req(11, pb_field(1, 2, sid)) + req(5, pb_field(1, 2, sid))
                   + req(8) + req(9))
        full.append(script)
        short.append(req(0, commit(payload, env, g)))
        # The payload block under the envelope's CID; a stream type no doctype has.
        bad = (pb_field(1, 0, 0) + pb_field(2, 2, g["envelope_cid"].encode())
               + pb_field(3, 2, pb_field(1, 2, g["envelope_cid"].encode()) + pb_field(2, 2, payload)))
        broken.append(req(0, bad) + req(1, commit(payload, env, g)))
        broken.append(req(0, pb_field(1, 0, 77) + commit(payload, env, g)[2:]))
    broken += [req(2, pb_field(1, 2, b"kxyz")), req(7, pb_field(4, 2, b"nope")), req(6, pb_field(1, 2, b"k"))]
    return [full, short, broken]


def cbor_bytes(data):
    return cbor_head(2, len(data)) + data


def net_block_seeds():
    """Block protocol inputs: [0] + stored blocks + a CBOR request {cids: [bytes]} (we serve),
    [1] + a CBOR response {blocks: [[cid, data]]} (we asked), from the js-tile commits."""
    def cid_bytes(codec, data):
        return b"\x01" + uvarint(codec) + b"\x12\x20" + hashlib.sha256(data).digest()

    def request(cids):
        return cbor_head(5, 1) + cbor_text("cids") + cbor_head(4, len(cids)) + b"".join(map(cbor_bytes, cids))

    def response(pairs):
        items = b"".join(cbor_head(4, 2) + cbor_bytes(c) + cbor_bytes(d) for c, d in pairs)
        return cbor_head(5, 1) + cbor_text("blocks") + cbor_head(4, len(pairs)) + items

    def stored(blocks):
        return bytes([len(blocks)]) + b"".join(
            bytes([flag]) + len(d).to_bytes(2, "big") + d for flag, d in blocks)

    serve, answer = [], []
    for (payload, env, _), updates in tile_vectors():
        env_cid, payload_cid = cid_bytes(0x85, env), cid_bytes(0x71, payload)
        blocks = stored([(1, env), (0, payload)])
        serve.append(b"\x00" + blocks + request([env_cid]))
        serve.append(b"\x00" + blocks + request([payload_cid, env_cid, env_cid, b"\x01\x71"]))
        serve.append(b"\x00" + blocks + request([]))
        answer.append(b"\x01" + response([(env_cid, env), (payload_cid, payload)]))
        answer.append(b"\x01" + response([(payload_cid, payload), (env_cid, env), (payload_cid, payload)]))
        answer.append(b"\x01" + response([(env_cid, env[:-1]), (b"\x01", payload)]))
    answer.append(b"\x01" + cbor_head(5, 0))
    serve.append(b"\x00\x00" + cbor_head(5, 1) + cbor_text("cids") + cbor_head(4, 1) + cbor_text("x"))
    return [serve, answer]


def http_query_seeds():
    return [[q.encode() for q in [
        "", "sync=0", "sync=1&syncTimeoutSeconds=3", "sync=2&atTime=1700000000&pin=true",
        "sync=3", "sync=4", "atTime=-1", "syncTimeoutSeconds=1.5",
        "sync=0&a=true&b=false&c=%7B%22x%22%3A1%7D&d=hello+world&e",
        "a=1&a=2", "a=%7Bnope", "a=%ff", "x=%2B%26%3D%25&=&&&y=-0&z=007&w=%7B%7D",
        "opts=%7B%22sync%22%3A0%2C%22atTime%22%3Anull%7D", "%73ync=1", "sync=%2B1",
        "atTime=99999999999999999999", "q=%F0%9F%A6%80&r=%E2%82",
    ]]]


def anchor_merkle_seeds():
    """Real trees (mode 0: count, salt, leaf, mutation, ...) and hostile blocks (mode 1)."""
    trees = [bytes([0, count, 7, index, mutation, 3, 1, 0, 2, 1, 0, 1, 2])
             for count in (0, 1, 2, 3, 7, 8, 63) for index, mutation in ((0, 0), (1, 1), (5, 2), (2, 3))]
    hostile = [bytes([1, 9, 9, 9, 9, 3, 2, 3, 4, 5, 6, 2, 2, 4, 0, 0, 1, 0, 3]) + b"0/0/0",
               bytes([1, 0, 0, 0, 0, 1, 2, 2, 0, 2, 1]) + b"0",
               bytes([1, 0, 0, 0, 0, 2, 3, 3, 1, 4, 2, 1, 2, 1, 0, 3]) + b"0/1"]
    return [trees, hostile + pseudo_random("merkle", 8, 64)]


def core_config_seeds():
    """The documented example (with and without its comments), the config tests' texts, edges."""
    import re
    source = (ROOT / "crates/core/src/config.rs").read_text(encoding="utf-8")
    doc = "\n".join(line[4:] for line in source.splitlines() if line.startswith("//! "))
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    texts = [example, example.replace("# ", "")]
    texts += re.findall(r'parse\(\s*r#"(.*?)"#', source, re.S)
    texts += [
        '[p2p]\nlisten = ["/ip4/1.2.3.4/tcp/1", "/dns4/x/tcp/1"]',
        '[p2p]\nenabled = false\nlisten = ["nope"]',
        '[anchoring]\nrpc_url = "http://x"',
        '[anchoring]\nchain = "eth"\nmin_streams = 3\nmax_delay_secs = 1',
        'listen = "[::1]:0"\nshutdown_grace_secs = 18446744073709551615',
        "doctypes = []\nadmin_dids = [\"did:key:z\"]\nlog_level = '''\nmulti\n'''",
    ]
    return [[t.encode() for t in texts]]


def multibase_car(text):
    """Decodes the m (base64) / u (base64url) multibase text of an event CAR."""
    import base64
    body = text[1:] + "=" * (-len(text[1:]) % 4)
    return base64.urlsafe_b64decode(body) if text[0] == "u" else base64.b64decode(body)


def event_car_seeds():
    """Event CARs of every kind (@ceramic-sdk and rust-ceramic vectors), and broken variants."""
    cars = [multibase_car(c["car"]) for c in load("crates/event/testdata/js-ceramic-sdk.json")["cases"]]
    cars += [multibase_car(c["car"]) for c in load("crates/event/testdata/rust-ceramic.json")["cases"]]
    broken = []
    for car in cars:
        header_len, start = varint(car, 0)
        header_end = start + header_len
        broken.append(car[:-1])  # truncated inside the last block
        broken.append(car[:header_end])  # the header alone
        # The sections in reverse order (accepted: any order of the needed blocks).
        sections, at = [], header_end
        while at < len(car):
            n, body = varint(car, at)
            sections.append(car[at:body + n])
            at = body + n
        broken.append(car[:header_end] + b"".join(reversed(sections)))
        broken.append(car + sections[0])  # a block twice
    return [cars, broken]


def event_api_seeds():
    """Inputs of the /ceramic API's parsers: feed query strings and resume tokens, ids, interest
    bodies, and POST /events bodies {"data": multibase CAR} made from the event CAR vectors (as
    base64url 'u', as the SDK sends them, and base64 'm'), with the raw CARs."""
    import base64
    cars = [multibase_car(c["car"]) for c in load("crates/event/testdata/js-ceramic-sdk.json")["cases"]]
    bodies = []
    for car in cars[:12]:
        text = base64.urlsafe_b64encode(car).decode().rstrip("=")
        bodies.append(json.dumps({"data": "u" + text}).encode())
        bodies.append(json.dumps({"data": "m" + base64.b64encode(car).decode().rstrip("=")}).encode())
    bodies += [b'{"data":"u"}', b'{"data":"zzz"}', b"{}", b'{"data":1}']
    _, text = streamid_seeds()
    ids = list(dict.fromkeys(t for group in text for t in group if t.startswith(b"k")))[:6]
    model = ids[0].decode("utf-8", "replace") if ids else "kjzl6hvfrbw6c"
    interests = [json.dumps(i).encode() for i in (
        {"sep": "model", "sepValue": model},
        {"sep": "model", "sepValue": model, "controller": "did:key:z6Mk"},
        {"sep": "account", "sepValue": model},
        {"sep": "model", "sepValue": "nope", "extra": 1},
    )]
    queries = [b"resumeAt=0&limit=10", b"resumeAt=18446744073709551616", b"limit=-1",
               b"resumeAt=1&resumeAt=2", b"resumeAt=%30&limit=%31", b"12345", b""]
    return [bodies, cars[:8], interests + ids, queries]


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


def model_definition_seeds():
    """Every definition of the model vectors (valid and refused), as compact JSON text."""
    vectors = load("crates/doctype-model/testdata/js-models.json")
    definitions = [c["definition"] for c in vectors["definitions"]]
    definitions += list(vectors["models"].values())
    text = [json.dumps(d, separators=(",", ":")).encode() for d in definitions]
    return [text, [t[: len(t) // 2] for t in text]]


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
    write("doctype_caip10_link_proof", caip10_seeds(), clean)
    write("anchor_eth_rpc_response", anchor_eth_rpc_seeds(), clean)
    write("anchor_service_parse_body", anchor_service_seeds(), clean)
    write("anchor_service_parse_response", anchor_service_response_seeds(), clean)
    write("http_api_request", http_api_seeds(), clean)
    write("bitswap_message", bitswap_seeds(), clean)
    write("net_pubsub_message", net_pubsub_seeds(), clean)
    write("engine_hostile_log", engine_seeds(), clean)
    write("grpc_request", grpc_seeds(), clean)
    write("net_block_protocol", net_block_seeds(), clean)
    write("http_api_query", http_query_seeds(), clean)
    write("anchor_verify_merkle_path", anchor_merkle_seeds(), clean)
    write("core_node_config", core_config_seeds(), clean)
    write("event_decode_car", event_car_seeds(), clean)
    write("model_definition_parse", model_definition_seeds(), clean)
    write("event_api_request", event_api_seeds(), clean)


if __name__ == "__main__":
    main()
