using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Verifier;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Program;

/// <summary>
/// A validated, linked program: instructions checked against RFC 9669, lddw pseudo forms bound to maps, helper
/// ids checked against the program type, and a pre-decoded copy ready to execute.
/// </summary>
public sealed unsafe class BpfProgram
{
    /// <summary>Values of <c>lddw rX, func(...)</c>: a callback's code address, tagged so it is never a memory address.</summary>
    internal const ulong CodeAddressTag = 0xffff_e000_0000_0000;

    private readonly DecodedInsn[] decoded;

    private BpfProgram(string name, bpf_prog_type type, bpf_insn[] instructions, BpfMap[] maps, DecodedInsn[] decoded, MemoryRegion[] regions,
        BpfLineInfo[] lineInfo, BpfMap?[] mapAt, GlobalFunction[] globalFunctions)
    {
        GlobalFunctions = globalFunctions;
        this.mapAt = mapAt;
        Name = name;
        Type = type;
        Instructions = instructions;
        Maps = maps;
        this.lineInfo = lineInfo;
        this.decoded = decoded;
        functionAddresses = FunctionAddresses(decoded);
        Regions = regions;
        Id = Interlocked.Increment(ref lastId);
        lock (Live)
            Live[Id] = new WeakReference<BpfProgram>(this);
    }

    private static readonly Dictionary<int, WeakReference<BpfProgram>> Live = [];
    private static int lastId;

    /// <summary>Process-wide id, the user-space analogue of a program fd or id; program arrays report it.</summary>
    public int Id { get; }

    /// <summary>The live program with this id, or null.</summary>
    public static BpfProgram? FromId(int id)
    {
        lock (Live)
        {
            if (Live.TryGetValue(id, out var reference) && reference.TryGetTarget(out var program))
                return program;
            Live.Remove(id);
            return null;
        }
    }

    public string Name { get; }
    public bpf_prog_type Type { get; }
    public IReadOnlyList<bpf_insn> Instructions { get; }
    /// <summary>Every map the program's instructions refer to.</summary>
    public IReadOnlyList<BpfMap> Maps { get; }

    private readonly BpfLineInfo[] lineInfo;

    /// <summary>Source positions of instructions, in instruction order; empty when the program came without them.</summary>
    public IReadOnlyList<BpfLineInfo> LineInfo => lineInfo;

    /// <summary>The source position that covers instruction <paramref name="pc"/> (the last record at or before it), or null.</summary>
    public BpfLineInfo? LineAt(int pc)
    {
        int lo = 0, hi = lineInfo.Length - 1;
        BpfLineInfo? found = null;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (lineInfo[mid].InstructionIndex <= pc)
            {
                found = lineInfo[mid];
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    /// <summary>Instructions standing for unresolved CO-RE relocations (<see cref="ProgramOptions.CorePoisons"/>).</summary>
    public IReadOnlyDictionary<int, string> CorePoisons { get; private init; } = new Dictionary<int, string>();

    /// <summary>The subprograms the verifier proves on their own, as the kernel does global functions (<see cref="ProgramOptions.GlobalFunctions"/>).</summary>
    public IReadOnlyList<GlobalFunction> GlobalFunctions { get; }

    /// <summary>The global function starting at <paramref name="pc"/>, or null (a static subprogram, or not a start).</summary>
    internal GlobalFunction? GlobalFunctionAt(int pc)
    {
        foreach (var function in GlobalFunctions)
        {
            if (function.InstructionIndex == pc)
                return function;
        }
        return null;
    }

    private readonly BpfMap?[] mapAt;

    /// <summary>The map an lddw at <paramref name="pc"/> refers to (its handle or one of its values), or null.</summary>
    internal BpfMap? MapAt(int pc) => mapAt[pc];

    /// <summary>What verification proved and what it took; <see cref="VerificationResult.NotVerified"/> for programs loaded with <see cref="VerificationLevel.None"/>.</summary>
    public VerificationResult Verification { get; private set; } = VerificationResult.NotVerified;

    /// <summary>Map memory this program may touch through pointers (map values, ring buffer records).</summary>
    internal MemoryRegion[] Regions { get; }

    /// <summary>The decoded instructions; the array is pinned, so the pointer stays valid for the program's life.</summary>
    internal DecodedInsn* Code => (DecodedInsn*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(decoded));

    internal int Length => decoded.Length;

    private readonly bool[] functionAddresses;

    /// <summary>Whether an lddw of a function (BPF_PSEUDO_FUNC) names instruction <paramref name="pc"/>: where a callback may start.</summary>
    internal bool IsFunctionAddress(int pc) => (uint)pc < (uint)functionAddresses.Length && functionAddresses[pc];

    private static bool[] FunctionAddresses(DecodedInsn[] code)
    {
        var named = new bool[code.Length];
        foreach (var insn in code)
        {
            if (insn.Code == (BPF_LD | BPF_IMM | BPF_DW) && insn.Src == BPF_PSEUDO_FUNC && ((ulong)insn.Imm ^ CodeAddressTag) < (ulong)code.Length)
                named[(ulong)insn.Imm ^ CodeAddressTag] = true;
        }
        return named;
    }

    public static BpfProgram Load(ReadOnlySpan<byte> bytecode, ProgramOptions? options = null) =>
        Load(bpf_insn.FromBytes(bytecode), options);

    /// <summary>
    /// Validates, links and verifies <paramref name="instructions"/>; throws <see cref="BpfLoadException"/> naming what is
    /// wrong, a <see cref="VerifierException"/> when the verifier refuses the program.
    /// </summary>
    public static BpfProgram Load(ReadOnlySpan<bpf_insn> instructions, ProgramOptions? options = null)
    {
        options ??= new ProgramOptions();
        InstructionValidator.Validate(instructions);

        var decoded = GC.AllocateArray<DecodedInsn>(instructions.Length, pinned: true);
        var maps = new List<BpfMap>();
        var mapAt = new BpfMap?[instructions.Length];
        BpfLoadException? unavailable = null;
        for (var pc = 0; pc < instructions.Length; pc++)
        {
            var insn = instructions[pc];
            ref var d = ref decoded[pc];
            d.Code = insn.code;
            d.Dst = (byte)insn.dst_reg;
            d.Src = (byte)insn.src_reg;
            d.Off = insn.off;
            d.Imm = insn.imm;

            if (InstructionValidator.JumpTarget(insn, pc) is { } target)
                d.Off = target;
            CheckFrameAccess(pc, insn);

            if (insn.code == (BPF_JMP | BPF_CALL))
            {
                if (insn.src_reg == BPF_PSEUDO_CALL)
                    d.Imm = pc + 1 + insn.imm;
                else if (insn.imm == ProgramOptions.CorePoisonHelper && options.CorePoisons.ContainsKey(pc))
                    d.Code = 0; // dead code, or the verifier refuses it; unverified, it faults as an lddw's second slot does
                else if (!HelperTable.IsAvailable(insn.imm, options.Type))
                    unavailable ??= InstructionValidator.Fail(pc, insn, HelperTable.Describe(insn.imm) is { } known
                        ? $"helper {known} is not available to {options.Type} programs"
                        : $"unknown helper id {insn.imm}");
            }
            else if (Mode(insn.code) is BPF_ABS or BPF_IND && Class(insn.code) == BPF_LD
                     && options.Type == bpf_prog_type.BPF_PROG_TYPE_XDP)
            {
                throw InstructionValidator.Fail(pc, insn, "legacy packet loads (LD_ABS/LD_IND) are not allowed in XDP programs");
            }
            else if (InstructionValidator.IsWide(insn))
            {
                var next = instructions[pc + 1];
                d.Imm = ResolveWide(options, maps, pc, insn, next, out mapAt[pc]);
                decoded[pc + 1] = default;
                pc++;
            }
        }

        var lineInfo = CheckLineInfo(instructions, options.LineInfo);
        var globalFunctions = CheckGlobalFunctions(instructions, options.GlobalFunctions);
        var regions = maps.Select(m => m.ValueRegion).Where(r => r.Length > 0).ToArray();
        var program = new BpfProgram(options.Name, options.Type, instructions.ToArray(), [.. maps], decoded, regions, lineInfo, mapAt, globalFunctions)
        {
            CorePoisons = options.CorePoisons,
        };
        // Raw-memory programs run unverified, but not with registers nothing wrote: the kernel refuses those reads.
        if (options.Type == bpf_prog_type.BPF_PROG_TYPE_UNSPEC && options.Verification == VerificationLevel.None)
            WrittenRegisters.Check(instructions);
        // A call of a helper we lack is refused after verification, so that what the kernel's verifier says first is said first.
        program.Verification = BpfVerifier.Verify(program, options.Verification, options.VerboseLog);
        return unavailable is null ? program : throw unavailable;
    }

    /// <summary>Each global function starts where a call or function address leads, once, with a prototype the verifier can use.</summary>
    private static GlobalFunction[] CheckGlobalFunctions(ReadOnlySpan<bpf_insn> instructions, IReadOnlyList<GlobalFunction> functions)
    {
        var starts = new HashSet<int>();
        for (var pc = 0; pc < instructions.Length; pc++)
        {
            if (InstructionValidator.IsPseudoCall(instructions[pc]) || InstructionValidator.IsPseudoFunc(instructions[pc]))
                starts.Add(pc + 1 + instructions[pc].imm);
        }
        var seen = new HashSet<int>();
        foreach (var function in functions)
        {
            ArgumentNullException.ThrowIfNull(function);
            var what = $"global function '{function.Name}' at instruction {function.InstructionIndex}";
            if (function.InstructionIndex == 0 || !starts.Contains(function.InstructionIndex))
                throw new BpfLoadException($"{what}: no call or function address leads there, so no subprogram starts there");
            if (!seen.Add(function.InstructionIndex))
                throw new BpfLoadException($"{what}: a second global function at the same instruction");
            if (function.Unsupported is not null)
                continue;
            if (function.Args.Count > 5)
                throw new BpfLoadException($"{what}: {function.Args.Count} parameters, but arguments travel in r1-r5 only");
            foreach (var arg in function.Args)
            {
                if (arg.Kind == GlobalFunctionArgKind.Memory ? arg.MemorySize < 0 : arg.MemorySize != 0 || !Enum.IsDefined(arg.Kind))
                    throw new BpfLoadException($"{what}: parameter {arg} is neither a scalar, the context nor memory of a size of 0 or more");
            }
        }
        return [.. functions];
    }

    /// <summary>The kernel's check_btf_line rules: strictly increasing, inside the program, never on an lddw's second slot.</summary>
    private static BpfLineInfo[] CheckLineInfo(ReadOnlySpan<bpf_insn> instructions, IReadOnlyList<BpfLineInfo> lineInfo)
    {
        var checkedInfo = new BpfLineInfo[lineInfo.Count];
        var previous = -1;
        for (var i = 0; i < checkedInfo.Length; i++)
        {
            var info = lineInfo[i];
            var index = info.InstructionIndex;
            if (index <= previous || index >= instructions.Length)
                throw new BpfLoadException($"line_info[{i}] is for instruction {index}: it must come after instruction {previous} and inside the program's {instructions.Length} instructions");
            // As the kernel tests it: once validated, only an lddw's second slot has opcode 0.
            if (instructions[index].code == 0)
                throw new BpfLoadException($"line_info[{i}] points at instruction {index}, the second slot of an lddw");
            checkedInfo[i] = info;
            previous = index;
        }
        return checkedInfo;
    }

    /// <summary>
    /// Accesses through r10 itself must stay inside the frame's 512 bytes below it, as the kernel's verifier requires;
    /// checked at load because r10 is read-only, so its offset is all there is to know.
    /// </summary>
    private static void CheckFrameAccess(int pc, bpf_insn insn)
    {
        var cls = Class(insn.code);
        var baseRegister = cls switch
        {
            BPF_LDX => insn.src_reg,
            BPF_ST or BPF_STX => insn.dst_reg,
            _ => -1,
        };
        if (baseRegister != BPF_REG_FP)
            return;
        var size = SizeInBytes(Size(insn.code));
        if (insn.off < -MAX_BPF_STACK || insn.off + size > 0)
            throw InstructionValidator.Fail(pc, insn, $"stack access of {size} bytes at r10{insn.off:+0;-0} is outside the {MAX_BPF_STACK}-byte frame below r10",
                VerifierRule.InvalidStackAccess);
    }

    private static long ResolveWide(ProgramOptions options, List<BpfMap> maps, int pc, bpf_insn insn, bpf_insn next, out BpfMap? resolved)
    {
        resolved = null;
        switch (insn.src_reg)
        {
            case 0:
                return (long)(((ulong)(uint)next.imm << 32) | (uint)insn.imm);
            case BPF_PSEUDO_FUNC:
                return (long)(CodeAddressTag | (uint)(pc + 1 + insn.imm));
            case BPF_PSEUDO_BTF_ID:
                throw InstructionValidator.Fail(pc, insn, "lddw of a kernel variable (BTF id) has no meaning outside the kernel");
        }

        var map = insn.src_reg is BPF_PSEUDO_MAP_IDX or BPF_PSEUDO_MAP_IDX_VALUE
            ? (uint)insn.imm < (uint)options.Maps.Count ? options.Maps[insn.imm] : null
            : MapRegistry.FromId(insn.imm);
        if (map is null)
            throw InstructionValidator.Fail(pc, insn, insn.src_reg is BPF_PSEUDO_MAP_IDX or BPF_PSEUDO_MAP_IDX_VALUE
                ? $"map index {insn.imm} is not one of the program's {options.Maps.Count} maps"
                : $"no open map has id (fd) {insn.imm}");
        if (!maps.Contains(map))
            maps.Add(map);
        resolved = map;

        if (insn.src_reg is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_IDX)
            return (long)map.Handle;

        if (map is not IDirectValueMap { HasDirectValue: true } direct)
            throw InstructionValidator.Fail(pc, insn, $"map '{map.Name}' ({map.Type}, max_entries {map.MaxEntries}) has no direct value address; only single-element array maps do");
        var address = direct.DirectValueAddress((uint)next.imm);
        if (address == 0)
            throw InstructionValidator.Fail(pc, insn, $"offset {next.imm} is outside the value of map '{map.Name}' (value_size {map.ValueSize})");
        return address;
    }

    public override string ToString() => $"{Name} ({Type}, {Instructions.Count} insns)";
}
