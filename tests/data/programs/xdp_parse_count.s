# An XDP program of the kind every firewall starts with: parse Ethernet, IPv4 (any IHL) and UDP with a bounds
# check before every access, count packets per verdict in a per-CPU array, drop UDP to port 53, pass the rest.
# map 0: counters, BPF_MAP_TYPE_PERCPU_ARRAY, key u32 (the verdict), value u64, 4 entries.
    r6 = r1
    r2 = *(u32 *)(r6 + 4)
    r1 = *(u32 *)(r6 + 0)
    r7 = 2
    r3 = r1
    r3 += 34
    if r3 > r2 goto count
    r4 = *(u16 *)(r1 + 12)
    if r4 != 8 goto count
    r4 = *(u8 *)(r1 + 14)
    r4 &= 15
    r4 <<= 2
    if r4 < 20 goto drop
    r5 = *(u8 *)(r1 + 23)
    if r5 != 17 goto count
    r3 = r1
    r3 += 14
    r3 += r4
    r0 = r3
    r0 += 8
    if r0 > r2 goto drop
    r4 = *(u16 *)(r3 + 2)
    r4 = be16 r4
    if r4 != 53 goto count
drop:
    r7 = 1
count:
    *(u32 *)(r10 - 4) = r7
    r2 = r10
    r2 += -4
    r1 = map_by_idx(0) ll
    call 1
    if r0 == 0 goto out
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
out:
    r0 = r7
    exit
