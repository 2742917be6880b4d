using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Elf;

/// <summary>A function of a linked program: its name and the instruction where it starts (0 for the program itself).</summary>
public readonly record struct ObjectFunction(int InstructionIndex, string Name);

/// <summary>A <c>struct bpf_func_info</c> of a linked program: where a function starts and its BTF FUNC type id.</summary>
public readonly record struct ObjectFuncInfo(int InstructionIndex, uint TypeId);

/// <summary>
/// A program of an object, linked as libbpf links it: the .text subprograms it calls (directly or through callback
/// addresses) appended after it, calls and <c>lddw</c> of functions pointing at them, maps and global data bound
/// to the object's map indexes. <see cref="Instructions"/> is what <see cref="BpfProgram.Load(ReadOnlySpan{bpf_insn}, ProgramOptions?)"/> takes.
/// </summary>
public sealed class ObjectProgram
{
    internal ObjectProgram(string name, string section, SectionKind kind, bpf_insn[] rawInstructions, bpf_insn[] instructions,
        BpfLineInfo[] lineInfo, ObjectFunction[] functions, string? refusal = null)
    {
        Name = name;
        Section = section;
        Type = kind.Type;
        ExpectedAttachType = kind.AttachType;
        Frags = kind.Frags;
        SectionKnown = kind.Known;
        Refusal = refusal;
        RawInstructions = rawInstructions;
        Instructions = instructions;
        LineInfo = lineInfo;
        Functions = functions;
    }

    /// <summary>The C function's name.</summary>
    public string Name { get; }

    /// <summary>The ELF section, which says the program type (<c>SEC("xdp")</c>).</summary>
    public string Section { get; }

    public bpf_prog_type Type { get; }

    /// <summary>For XDP programs: BPF_XDP, or BPF_XDP_DEVMAP / BPF_XDP_CPUMAP for programs run on map entries.</summary>
    public bpf_attach_type? ExpectedAttachType { get; }

    /// <summary>Whether the section asks for multi-buffer packets (<c>xdp.frags</c>: BPF_F_XDP_HAS_FRAGS).</summary>
    public bool Frags { get; }

    /// <summary>
    /// Whether libbpf knows the section name. A name it does not know (<c>xdp_redirect_map</c>, <c>xdp_sock</c>,
    /// <c>prog</c>) is XDP, as ip link and libxdp load it.
    /// </summary>
    public bool SectionKnown { get; }

    /// <summary>Whether XdpGate runs programs of this type (XDP and socket filters); the others stay unloaded.</summary>
    public bool Runs => ProgramSections.Runs(Type);

    /// <summary>Why the program cannot be linked (a relocation it needs cannot be applied), or null; its siblings are not affected.</summary>
    public string? Refusal { get; }

    /// <summary>Why a load leaves this program out, or null when it can load: its type does not run here, or <see cref="Refusal"/>.</summary>
    public string? NotLoadable => Runs ? Refusal
        : $"a {TypeName(Type)} program (section '{Section}'); XdpGate runs xdp and socket_filter programs";

    /// <summary>A program type's short name as bpftool prints it: "xdp", "sched_cls", "tracing".</summary>
    public static string TypeName(bpf_prog_type type) =>
        type.ToString() is var name && name.StartsWith("BPF_PROG_TYPE_", StringComparison.Ordinal)
            ? name["BPF_PROG_TYPE_".Length..].ToLowerInvariant() : name;

    /// <summary>The function's instructions as the object holds them, before linking.</summary>
    public IReadOnlyList<bpf_insn> RawInstructions { get; }

    /// <summary>The linked program, subprograms included.</summary>
    public IReadOnlyList<bpf_insn> Instructions { get; }

    public int InstructionCount => Instructions.Count;

    /// <summary>Source positions of the linked instructions, from .BTF.ext line_info.</summary>
    public IReadOnlyList<BpfLineInfo> LineInfo { get; }

    /// <summary>The program and each subprogram linked into it, by start instruction.</summary>
    public IReadOnlyList<ObjectFunction> Functions { get; }

    /// <summary>
    /// The func_info the kernel takes with <see cref="BpfObject.KernelBtf"/>: one record per function of
    /// <see cref="Functions"/>; empty when the object has no BTF.
    /// </summary>
    public IReadOnlyList<ObjectFuncInfo> FuncInfo { get; internal set; } = [];

    /// <summary>
    /// The subprograms of <see cref="FuncInfo"/> with global linkage and their prototypes, which the verifier proves on
    /// their own as the kernel does; empty without func_info (every subprogram is then static to the kernel).
    /// </summary>
    public IReadOnlyList<GlobalFunction> GlobalFunctions { get; internal set; } = [];

    /// <summary>
    /// Instructions poisoned because a CO-RE relocation could not be resolved against the target BTF (libbpf's
    /// call of helper 0xbad2310), by program counter, with the relocation and what the target lacks.
    /// </summary>
    public IReadOnlyDictionary<int, string> CorePoisons { get; internal set; } = new Dictionary<int, string>();

    public override string ToString() => $"{Name} (section '{Section}', {Type}, {InstructionCount} insns)";
}
