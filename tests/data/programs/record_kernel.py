#!/usr/bin/env python3
"""Runs every frame of NAME.packets through the real kernel and writes
NAME.kernel.txt, the kernel's answers: what our engine must give, and what a live
kernel of the same release must give too (tests/data/kernel/README.md).

    sudo python3 record_kernel.py [NAME ...]     # default: every NAME.packets

Needs root, bpftool and a bpffs at /sys/fs/bpf; it pins itself to CPU 0. For each
object it:
  1. loads it with `bpftool prog loadall NAME.o DIR/progs pinmaps DIR/maps`
     (with `type xdp` for the objects in LOAD_TYPE, whose legacy section names
     libbpf cannot type)
     (DIR under /sys/fs/bpf/xdpgate_corpus_rec); libbpf fills .data/.rodata
     and any __array initial contents of program arrays;
  2. applies NAME.maps.json in order with `bpftool map update`;
  3. runs the frames in file order with `bpftool prog run` (BPF_PROG_TEST_RUN,
     not live frames) on CPU 0, one after the other on the same maps, passing
     an xdp_md ctx_in {data 0, data_end = frame length, everything else 0}
     so that ctx_out tells the metadata length;
  4. dumps the maps after the last frame and reads the ring buffers;
  5. removes everything it pinned;
  6. writes NAME.core.txt, libbpf's CO-RE relocation decisions, when the object has any.
Nothing is attached to an interface and no traffic is sent.
"""
import ctypes
import json
import mmap
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PIN_ROOT = "/sys/fs/bpf/xdpgate_corpus_rec"
XDP_NAMES = {0: "XDP_ABORTED", 1: "XDP_DROP", 2: "XDP_PASS", 3: "XDP_TX", 4: "XDP_REDIRECT"}
# Objects whose section names libbpf cannot type: loaded as XDP, as ip link and libxdp load them.
LOAD_TYPE = {"xdp_legacy_sections": "xdp"}


def bpftool(*args, json_out=False):
    cmd = ["bpftool"] + (["-j"] if json_out else []) + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return json.loads(r.stdout) if json_out else r.stdout + r.stderr


def parse_packets(path):
    """-> list of (prog or None, description, frame bytes)."""
    prog, desc, out = None, "", []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#!"):
            words = line[2:].split()
            if words[:1] == ["prog"]:
                prog = words[1]
            continue
        if line.startswith("#"):
            desc = line[1:].strip()
            continue
        out.append((prog, desc, bytes.fromhex(line)))
        desc = ""
    return out


# ------------------------------------------------------------- ring buffers

class BpfAttrObjGet(ctypes.Structure):
    _fields_ = [("pathname", ctypes.c_uint64), ("bpf_fd", ctypes.c_uint32), ("file_flags", ctypes.c_uint32),
                ("pad", ctypes.c_uint8 * 112)]


def obj_get(path):
    libc = ctypes.CDLL(None, use_errno=True)
    name = ctypes.create_string_buffer(path.encode())
    attr = BpfAttrObjGet()
    attr.pathname = ctypes.addressof(name)
    fd = libc.syscall(321, 7, ctypes.byref(attr), ctypes.sizeof(attr))  # __NR_bpf, BPF_OBJ_GET
    if fd < 0:
        raise OSError(ctypes.get_errno(), "BPF_OBJ_GET " + path)
    return fd


def read_ringbuf(path, max_entries):
    """Every record between consumer and producer position, discarded ones included."""
    page = mmap.PAGESIZE
    fd = obj_get(path)
    try:
        cons_m = mmap.mmap(fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        prod_m = mmap.mmap(fd, page + 2 * max_entries, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
    finally:
        os.close(fd)
    cons = struct.unpack_from("<Q", cons_m, 0)[0]
    prod = struct.unpack_from("<Q", prod_m, 0)[0]
    records = []
    mask = max_entries - 1
    pos = cons
    while pos < prod:
        off = page + (pos & mask)
        hdr_len, pg_off = struct.unpack_from("<II", prod_m, off)
        busy, discard, length = hdr_len >> 31, (hdr_len >> 30) & 1, hdr_len & 0x3FFFFFFF
        body = bytes(prod_m[off + 8: off + 8 + length])
        records.append((pos, busy, discard, length, body))
        pos += (length + 8 + 7) & ~7
    struct.pack_into("<Q", cons_m, 0, pos)
    cons_m.close()
    prod_m.close()
    return cons, prod, records


# ------------------------------------------------------------- map dumps

def hexbytes(lst):
    return "".join(b[2:] if b.startswith("0x") else b for b in lst)


def dump_maps(mapdir, prog_ids):
    lines = []
    for pin in sorted(os.listdir(mapdir)):
        path = os.path.join(mapdir, pin)
        info = bpftool("map", "show", "pinned", path, json_out=True)
        mtype, name = info["type"], info.get("name", pin)
        lines.append("map %s (pin %s) type %s key %d value %d max_entries %d flags 0x%x" % (
            name, pin, mtype, info["bytes_key"], info["bytes_value"], info["max_entries"], info["flags"]))
        if mtype == "ringbuf":
            cons, prod, recs = read_ringbuf(path, info["max_entries"])
            lines.append("  consumer %d producer %d records %d" % (cons, prod, len(recs)))
            for pos, busy, discard, length, body in recs:
                state = "discarded" if discard else ("busy" if busy else "committed")
                lines.append("  record at %d len %d %s %s" % (pos, length, state, body.hex() if not discard else "-"))
            continue
        entries = bpftool("map", "dump", "pinned", path, json_out=True)
        rows = []
        for e in entries:
            key = hexbytes(e["key"])
            if "values" in e:  # per-CPU
                vals = [(v["cpu"], hexbytes(v["value"])) for v in e["values"]]
                shown = [(c, v) for c, v in vals if set(v) != {"0"}]
                if not shown and mtype.endswith("array"):
                    continue
                rows.append((key, "  key %s %s" % (key, " ".join("cpu%d %s" % cv for cv in shown) or "all zero")))
            else:
                if not isinstance(e.get("value"), list):
                    continue  # an empty slot (devmap): bpftool reports the failed lookup
                val = hexbytes(e["value"])
                if mtype == "prog_array":
                    pid = struct.unpack("<I", bytes.fromhex(val))[0]
                    val = "prog " + prog_ids.get(pid, "id %d" % pid)
                elif mtype == "array" and set(val) == {"0"}:
                    continue
                rows.append((key, "  key %s value %s" % (key, val)))
        if mtype.endswith("array") and mtype != "prog_array":
            rows.append(("", "  (array entries not listed are zero)"))
        lines.extend(r for _, r in sorted(rows, key=lambda r: (r[0] == "", r[0])))
    return lines


# ------------------------------------------------------------- one object

def record(name):
    obj = os.path.join(HERE, name + ".o")
    frames = parse_packets(os.path.join(HERE, name + ".packets"))
    maps_json = os.path.join(HERE, name + ".maps.json")
    pindir = os.path.join(PIN_ROOT, name)
    progdir, mapdir = os.path.join(pindir, "progs"), os.path.join(pindir, "maps")
    if os.path.exists(pindir):
        shutil.rmtree(pindir)
    os.makedirs(pindir)
    tmp = tempfile.mkdtemp(prefix="xdpgate_rec_")
    out = []
    try:
        load_type = ["type", LOAD_TYPE[name]] if name in LOAD_TYPE else []
        core = core_relocations(bpftool("-d", "prog", "loadall", obj, progdir, *load_type, "pinmaps", mapdir))
        progs = sorted(os.listdir(progdir))
        prog_ids = {}
        for p in progs:
            prog_ids[bpftool("prog", "show", "pinned", os.path.join(progdir, p), json_out=True)["id"]] = p
        if os.path.exists(maps_json):
            with open(maps_json) as f:
                for mname, entries in json.load(f).items():
                    for e in entries:
                        key = bytes.fromhex(e["key"])
                        args = ["map", "update", "pinned", os.path.join(mapdir, mname), "key", "hex"]
                        args += ["%02x" % b for b in key]
                        if "prog" in e:
                            args += ["value", "pinned", os.path.join(progdir, e["prog"])]
                        else:
                            args += ["value", "hex"] + ["%02x" % b for b in bytes.fromhex(e["value"])]
                        bpftool(*args)

        out.append("# Kernel results for %s.o, written by record_kernel.py (tests/record-kernel): our engine must give" % name)
        out.append("# them, and a live kernel of the same release too.")
        out.append("# kernel %s %s" % (platform.release(), platform.machine()))
        out.append("# %s, BPF_PROG_TEST_RUN on CPU 0." % bpftool("version").splitlines()[0])
        out.append("# Frames ran in file order on one loaded object (maps carry over)%s." % (
            ", after %s.maps.json" % name if os.path.exists(maps_json) else ""))
        out.append("# Per frame: retval; meta = the metadata in front of the packet (ctx_out.data bytes,")
        out.append("# '-' when none); data = the packet from ctx->data to ctx->data_end after the run.")
        current = None
        for i, (prog, desc, frame) in enumerate(frames, 1):
            if prog is None:
                if len(progs) != 1:
                    raise RuntimeError("%s: frames before any '#! prog' line but %d programs" % (name, len(progs)))
                prog = progs[0]
            if prog != current:
                out.append("")
                out.append("#! prog %s" % prog)
                current = prog
            fin, fout = os.path.join(tmp, "in"), os.path.join(tmp, "out")
            cin, cout = os.path.join(tmp, "ctx_in"), os.path.join(tmp, "ctx_out")
            with open(fin, "wb") as f:
                f.write(frame)
            with open(cin, "wb") as f:
                f.write(struct.pack("<6I", 0, len(frame), 0, 0, 0, 0))
            for p in (fout, cout):
                if os.path.exists(p):
                    os.remove(p)
            out.append("# %s" % desc)
            r = subprocess.run(["bpftool", "prog", "run", "pinned", os.path.join(progdir, prog),
                                "data_in", fin, "data_out", fout, "data_size_out", "8192",
                                "ctx_in", cin, "ctx_out", cout, "ctx_size_out", "24"],
                               capture_output=True, text=True)
            text = r.stdout + r.stderr
            if r.returncode != 0 or "Return value:" not in text:
                out.append("error %s" % " ".join(text.split()))
                continue
            retval = int(text.split("Return value:")[1].split(",")[0])
            data_out = open(fout, "rb").read()
            ctx = struct.unpack("<6I", open(cout, "rb").read(24))
            meta_len = ctx[0]
            meta, data = data_out[:meta_len], data_out[meta_len:]
            assert len(data) == ctx[1] - ctx[0], (name, i, ctx, len(data_out))
            out.append("retval %d %s" % (retval, XDP_NAMES.get(retval, "?")))
            out.append("meta %s" % (meta.hex() or "-"))
            out.append("data %s" % data.hex())

        out.append("")
        out.append("## maps after the last frame (pins are bpftool's names; values per CPU for per-CPU maps)")
        out.extend(dump_maps(mapdir, prog_ids))
    finally:
        shutil.rmtree(pindir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    with open(os.path.join(HERE, name + ".kernel.txt"), "w") as f:
        f.write("\n".join(out) + "\n")
    core_path = os.path.join(HERE, name + ".core.txt")
    if core:
        with open(core_path, "w") as f:
            f.write("# libbpf's CO-RE relocations of %s.o against this kernel's BTF, from bpftool -d prog loadall\n" % name)
            f.write("# (record_kernel.py): per relocation, the value patched into the instruction or 'poison'.\n")
            f.write("# kernel %s %s\n" % (platform.release(), platform.machine()))
            f.write("\n".join(core) + "\n")
    elif os.path.exists(core_path):
        os.remove(core_path)


def core_relocations(log):
    """libbpf's debug lines -> 'PROG relo N KIND insn I FIELD OLD -> NEW' or 'PROG relo N KIND insn I poison'."""
    kinds, out, seen = {}, [], set()
    for line in log.splitlines():
        m = re.match(r"libbpf: prog '(\w+)': relo #(\d+): (.*)$", line)
        if not m:
            continue
        prog, relo, rest = m.group(1), int(m.group(2)), m.group(3)
        if rest.startswith("<") and (prog, relo) not in kinds:
            kinds[(prog, relo)] = rest[1:rest.index(">")]
        patched = re.match(r"patched insn #(\d+) \([A-Z0-9/]+\) (off|imm|imm64) (\d+) -> (\d+)$", rest)
        poisoned = re.match(r"substituting insn #(\d+) w/ invalid insn$", rest)
        if (patched or poisoned) and (prog, relo) not in seen:
            seen.add((prog, relo))
            what = "%s %s -> %s" % patched.group(2, 3, 4) if patched else "poison"
            out.append("%s relo %d %s insn %s %s" % (prog, relo, kinds[(prog, relo)], (patched or poisoned).group(1), what))
    return out


def verifier_reason(text):
    """The verifier's reason in bpftool's output: the log's last line before its statistics."""
    lines = [l.strip() for l in text.splitlines()]
    if "-- END PROG LOAD LOG --" in lines:
        log = lines[:lines.index("-- END PROG LOAD LOG --")]
        log = [l for l in log if l and not l.startswith(("processed ", "verification time", "stack depth"))]
        if log:
            return log[-1]
    return " ".join(l for l in lines if l)


def recorded_release(name):
    path = os.path.join(HERE, name + ".kernel.txt")
    if not os.path.exists(path):
        return "none recorded"
    for line in open(path):
        if line.startswith("# kernel "):
            return "recorded on Linux %s" % line.split()[2]
    return "no release named"


def main():
    if os.geteuid() != 0:
        sys.exit("record_kernel.py needs root (BPF_PROG_TEST_RUN, bpffs pins)")
    os.sched_setaffinity(0, {0})  # bpftool children run on CPU 0: per-CPU maps get one slot
    names = sys.argv[1:] or sorted(f[:-8] for f in os.listdir(HERE) if f.endswith(".packets"))
    try:
        for n in names:
            try:
                record(n)
                print("wrote %s.kernel.txt" % n)
            except RuntimeError as e:
                # A kernel that lacks something the program needs leaves the recording of the release that had it.
                print("kept %s.kernel.txt (%s): Linux %s refused it: %s" % (
                    n, recorded_release(n), platform.release(), verifier_reason(str(e))))
    finally:
        if os.path.isdir(PIN_ROOT) and not os.listdir(PIN_ROOT):
            os.rmdir(PIN_ROOT)


if __name__ == "__main__":
    main()
