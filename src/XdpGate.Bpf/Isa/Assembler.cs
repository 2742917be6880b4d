namespace XdpGate.Bpf.Isa;

/// <summary>
/// Turns LLVM's BPF assembly syntax (what <c>llvm-objdump -d</c> prints and <c>llvm-mc</c> reads) into instructions,
/// covering all of RFC 9669 including the v4 additions. <see cref="Disassembler"/> prints the canonical spelling of
/// each form below, and every line it prints assembles back to the same bytes.
/// <para>
/// One instruction per line; blank lines and comments (<c>;</c>, <c>#</c>, <c>//</c>) are ignored. A line may start with
/// labels (<c>name:</c>) naming the next instruction's slot; <c>goto</c>, <c>gotol</c>, <c>if ... goto</c>, <c>call</c> and
/// <c>func(...)</c> take a label wherever they take a pc-relative number. Numbers are decimal or hex (<c>0x</c>) with an
/// optional sign, so llvm-objdump's <c>--print-imm-hex</c> output reads too; a 32-bit imm takes -2^31 .. 2^32-1
/// (<c>0xffffffff</c> is -1), as llvm-mc does. A <c>&lt;symbol&gt;</c> after a jump target (as llvm-objdump prints it) is ignored.
/// </para>
/// <code>
/// ALU (r: ALU64, w: ALU)   r0 = 1   r0 = r1   r0 += 5   r0 -= r1   *= /= %= |= &amp;= ^= &lt;&lt;= &gt;&gt;=   s&gt;&gt;= (arsh)
///                          r0 = -r0 (neg)   r0 s/= r1, r0 s%= 5 (sdiv/smod, off=1)   r0 = (s8)r1 (movsx: s8 s16 s32; w: s8 s16)
/// byte swaps               r0 = be16 r0, le32 ... (ALU|END, TO_BE/TO_LE)   r0 = bswap64 r0 (ALU64|END)
/// jumps (r: JMP, w: JMP32) goto +3   gotol -100000 (JMP32|JA, offset in imm)   if r1 s&gt;= r2 goto -1   if w1 &amp; 7 goto +0
///                          comparisons: == != &gt; &gt;= &lt; &lt;= s&gt; s&gt;= s&lt; s&lt;= and &amp; (jset)
/// calls                    call 12 (helper, src=0)   call pc+5 / call pc-5 (BPF_PSEUDO_CALL, imm relative to the next insn)
///                          call kfunc(1234) / call kfunc(1234, 2) (BPF_PSEUDO_KFUNC_CALL: imm BTF id, off module index)   exit
/// loads and stores         r1 = *(u8 *)(r6 + 12) (u8 u16 u32 u64; w1 = ... is read for u8-u32)   r1 = *(s16 *)(r6 - 2) (MEMSX)
///                          *(u32 *)(r10 - 4) = r1 (w1 read for u8-u32)   *(u64 *)(r10 - 8) = 7 (ST)
/// packet (legacy)          r0 = *(u16 *)skb[12] (ABS)   r0 = *(u8 *)skb[r3] / skb[r3 + 14] / skb[r3 - 2] (IND)
/// lddw (two slots)         r1 = 0x1122334455667788 ll (decimal and negative read too)
///                          r1 = map_by_fd(5) ll               src=1 BPF_PSEUDO_MAP_FD
///                          r1 = map_value_by_fd(5, +16) ll    src=2 BPF_PSEUDO_MAP_VALUE, second: next slot's imm
///                          r1 = btf_id(7) ll / btf_id(7, 3)   src=3 BPF_PSEUDO_BTF_ID, second (module BTF fd) when non-zero
///                          r1 = func(pc+4) ll                 src=4 BPF_PSEUDO_FUNC, imm relative to the next insn
///                          r1 = map_by_idx(0) ll              src=5 BPF_PSEUDO_MAP_IDX
///                          r1 = map_value_by_idx(0, +8) ll    src=6 BPF_PSEUDO_MAP_IDX_VALUE
/// atomics (u32 or u64)     lock *(u64 *)(r1 + 0) += r2   (+= |= &amp;= ^=; u32 prints w2, reads r2 too)
///                          r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)   (add or and xor)
///                          r2 = xchg_64(r1 + 0, r2)   w2 = xchg32_32(r1 + 0, w2)
///                          r0 = cmpxchg_64(r1 + 0, r0, r2)   w0 = cmpxchg32_32(r1 + 0, w0, w2)
/// any encoding             .insn 0x8d, 1, 2, 3, 5   (code, dst, src, off, imm: one raw slot, BPF_RAW_INSN's fields)
/// </code>
/// The spellings LLVM has are LLVM's (the v4 ones as newer LLVM prints them); those it lacks are ours:
/// <c>call pc+N</c> (LLVM prints a local call like a helper call, <c>call N</c>, which would not round trip), <c>kfunc(...)</c>,
/// the lddw pseudo forms (the names of RFC 9669's table), <c>skb[rN + imm]</c> (LLVM drops the imm) and <c>.insn</c>.
/// </summary>
public static class Assembler
{
    /// <summary>The instructions of <paramref name="source"/>; a <see cref="BpfLoadException"/> names the first bad line as <c>line N: message</c>.</summary>
    public static bpf_insn[] Assemble(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var output = new List<bpf_insn>();
        var fixups = new List<Fixup>();
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var parser = new AsmParser(output, fixups, labels);
        var lineNumber = 0;
        foreach (var line in source.AsSpan().EnumerateLines())
            parser.ParseLine(line.ToString(), ++lineNumber);

        var insns = output.ToArray();
        foreach (var fixup in fixups)
        {
            if (!labels.TryGetValue(fixup.Label, out var target))
                throw new BpfLoadException($"line {fixup.Line}: undefined label '{fixup.Label}' in '{fixup.Text}'");
            // Jumps and calls count from the instruction after the one that holds them, as the kernel does.
            var relative = target - (fixup.Slot + 1);
            if (fixup.Kind == FixupKind.Immediate)
            {
                insns[fixup.Slot].imm = relative;
            }
            else
            {
                if (relative is < short.MinValue or > short.MaxValue)
                    throw new BpfLoadException($"line {fixup.Line}: label '{fixup.Label}' is {relative} instructions away, beyond a 16-bit jump offset (use gotol) in '{fixup.Text}'");
                insns[fixup.Slot].off = (short)relative;
            }
        }
        return insns;
    }
}
