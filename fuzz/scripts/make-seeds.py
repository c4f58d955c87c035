#!/usr/bin/env python3
"""Regenerates fuzz/seeds/<target>/ from the committed captures (testdata/captures/*.pcap and
testdata/sample.pcap). Needs tshark (UDP payloads, IP reassembly) and editcap (small pcaps).

    python3 fuzz/scripts/make-seeds.py

Seeds are small: a few dozen files per target, well under 1 MB in all.
"""
import glob
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
ROOT = os.path.dirname(FUZZ)
SEEDS = os.path.join(FUZZ, "seeds")
CAPTURES = sorted(glob.glob(os.path.join(ROOT, "testdata", "captures", "*.pcap")))
CAPTURES.append(os.path.join(ROOT, "testdata", "sample.pcap"))
MAX_PER_TARGET = 40
MAX_SEED = 8192


def payloads(pcap):
    """UDP payloads of a capture, in order."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-e", "udp.payload"],
        check=True, capture_output=True, text=True,
    ).stdout
    res = []
    for line in out.splitlines():
        line = line.strip().split(",")[0]
        if line:
            res.append(bytes.fromhex(line.replace(":", "")))
    return res


def kind(p):
    if len(p) >= 2 and p[:2] == b"\x00\x05":
        return "v5"
    if len(p) >= 2 and p[:2] == b"\x00\x09":
        return "v9"
    if len(p) >= 2 and p[:2] == b"\x00\x0a":
        return "ipfix"
    if len(p) >= 4 and p[:4] == b"\x00\x00\x00\x05":
        return "sflow"
    return None


def frame(exporter, advance, data):
    data = data[:65535]
    return bytes([exporter, advance]) + struct.pack(">H", len(data)) + data


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if len(os.listdir(d)) >= MAX_PER_TARGET:
        return
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pick(items, n):
    """Up to n items spread over the list, first ones (templates) always in."""
    seen, out = set(), []
    step = max(1, len(items) // n)
    for i, x in enumerate(items):
        if i < 3 or i % step == 0:
            h = hashlib.sha1(x).hexdigest()
            if h not in seen and len(x) <= MAX_SEED:
                seen.add(h)
                out.append(x)
    return out[:n]


def raw_frames(pcap):
    """Link-layer frames of a classic little-endian pcap (Ethernet)."""
    with open(pcap, "rb") as f:
        data = f.read()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        return []
    pos, out = 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        out.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return out


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    by_kind = {"v5": [], "v9": [], "ipfix": [], "sflow": []}
    per_file = []
    for cap in CAPTURES:
        ps = [p for p in payloads(cap) if kind(p)]
        per_file.append((os.path.basename(cap)[:-5], ps))
        for p in ps:
            by_kind[kind(p)].append((os.path.basename(cap)[:-5], p))

    def datagram_seeds(target, kinds, n):
        # Every capture's first datagrams (templates), then a spread of the rest.
        items = []
        for name, ps in per_file:
            ps = [p for p in ps if kind(p) in kinds]
            for i, p in enumerate(pick(ps, 4)):
                items.append((f"{name}-{i}", p))
        for name, p in items[:n]:
            write(target, name, p)

    for t in ["netflow_decode", "netflow_roundtrip"]:
        datagram_seeds(t, {"v5", "v9"}, MAX_PER_TARGET)
    for t in ["ipfix_decode", "ipfix_roundtrip"]:
        datagram_seeds(t, {"ipfix"}, MAX_PER_TARGET)
    for t in ["sflow_decode", "sflow_roundtrip"]:
        datagram_seeds(t, {"sflow"}, MAX_PER_TARGET)

    # Stateful targets: a mode byte, then each capture's datagrams framed as from 1-3
    # exporters with time advancing, one seed per capture (cut to a few datagrams).
    def stateful(target, kinds, mode_byte=True):
        for name, ps in per_file:
            ps = [p for p in ps if kind(p) in kinds][:12]
            if not ps:
                continue
            for variant in range(2):
                out = bytearray([variant] if mode_byte else [])
                for i, p in enumerate(ps):
                    exporter = (i % 3) if variant else 0
                    advance = 5 if variant == 0 else 40
                    flags = 0x80 if (variant and i % 4 == 3) else 0
                    out += frame(exporter | flags, advance, p)
                if len(out) <= 32768:
                    write(target, f"{name}-{variant}", bytes(out))

    stateful("netflow_session", {"v5", "v9"})
    stateful("ipfix_session", {"ipfix"})
    stateful("sflow_session", {"sflow"}, mode_byte=False)
    stateful("collector", {"v5", "v9", "ipfix", "sflow"}, mode_byte=False)
    # One mixed-protocol collector seed.
    mixed = bytearray()
    for i, k in enumerate(["v5", "v9", "ipfix", "sflow"]):
        for _, p in by_kind[k][:2]:
            mixed += frame(i, 1, p)
    write("collector", "mixed", bytes(mixed))

    # Raw-header decoder: selector 0 = Ethernet, then a frame's first 128 bytes (what an agent
    # samples); from the generated traffic and the exporters' own packets.
    frames = []
    for cap in CAPTURES:
        frames += raw_frames(cap)
    seen = set()
    for i, f in enumerate(frames):
        h = f[:128]
        key = h[12:14] + h[23:24] if len(h) > 23 else h
        if key in seen and i % 17:
            continue
        seen.add(key)
        write("sflow_header", f"frame-{i}", b"\x00" + h)

    # Capture walker: small pcaps (first packets of each capture, classic and pcapng).
    with tempfile.TemporaryDirectory() as tmp:
        for cap in CAPTURES:
            name = os.path.basename(cap)[:-5]
            for fmt in ["pcap", "pcapng"]:
                out = os.path.join(tmp, f"{name}.{fmt}")
                subprocess.run(["editcap", "-F", fmt, "-r", cap, out, "1-3"], check=True)
                with open(out, "rb") as f:
                    data = f.read()
                if len(data) <= 8192:
                    write("capture_reader", f"{name}.{fmt}", data)


if __name__ == "__main__":
    main()
