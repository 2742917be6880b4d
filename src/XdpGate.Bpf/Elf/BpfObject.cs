using System.Runtime.InteropServices;
using System.Text;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// A clang-compiled BPF object, opened as libbpf's bpf_object__open does: programs found by section name and cut
/// into functions, maps from <c>.maps</c> (BTF), <c>maps</c> (legacy) and global data sections, relocations
/// applied and .text subprograms linked. Nothing is created until <see cref="Load"/>; before that, read-only
/// globals may be set (<see cref="SetRodata(string, ReadOnlySpan{byte})"/>), as through a libbpf skeleton.
/// Every problem with the file is a <see cref="BpfLoadException"/> that names the section, symbol or field.
/// </summary>
public sealed class BpfObject
{
    private readonly byte[]? kernelBtf;

    private BpfObject(string license, ObjectProgram[] programs, ObjectMap[] maps, ObjectVariable[] variables, byte[]? kernelBtf)
    {
        this.kernelBtf = kernelBtf;
        License = license;
        Programs = programs;
        Maps = maps;
        Variables = variables;
    }

    /// <summary>The <c>license</c> section's string ("" when there is none).</summary>
    public string License { get; }

    /// <summary>Entry programs of every section libbpf knows (and legacy XDP names), in section order then offset order.</summary>
    public IReadOnlyList<ObjectProgram> Programs { get; }

    /// <summary>
    /// The program called <paramref name="name"/>, else the first in the section of that name (as ip link's <c>sec</c>
    /// picks); null when neither.
    /// </summary>
    public ObjectProgram? FindProgram(string name) =>
        Programs.FirstOrDefault(p => p.Name == name) ?? Programs.FirstOrDefault(p => p.Section == name);

    /// <summary><see cref="FindProgram"/>, throwing a refusal that lists the programs when there is none.</summary>
    public ObjectProgram ProgramNamed(string name) =>
        FindProgram(name)
        ?? throw new BpfLoadException($"no program or section named '{name}' (programs: {string.Join(", ", Programs.Select(p => $"{p.Name} in '{p.Section}'"))})");

    /// <summary>Maps in load order (legacy, then BTF-defined, then global data); programs index them in this order.</summary>
    public IReadOnlyList<ObjectMap> Maps { get; }

    /// <summary>Global variables of the data sections (static ones excepted, as in a skeleton).</summary>
    public IReadOnlyList<ObjectVariable> Variables { get; }

    /// <summary>
    /// The object's .BTF as the kernel takes it (BPF_BTF_LOAD), data sections' sizes and variable offsets filled
    /// in; null when the object has no BTF. Each call returns a new copy.
    /// </summary>
    public byte[]? KernelBtf() => kernelBtf?.ToArray();

    /// <summary>Opens the object in file <paramref name="path"/>; errors start with the path.</summary>
    public static BpfObject Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        try
        {
            return Open(bytes);
        }
        catch (BpfLoadException e)
        {
            throw new BpfLoadException($"{path}: {e.Message}", e);
        }
    }

    public static BpfObject Open(ReadOnlySpan<byte> elf) => Open(elf, () => CoRe.CoreTarget.Host);

    /// <summary>Opens an object resolving its CO-RE relocations against <paramref name="coreTarget"/> (asked for only when needed).</summary>
    internal static BpfObject Open(ReadOnlySpan<byte> elf, Func<CoRe.CoreTarget> coreTarget)
    {
        var file = ElfFile.Parse(elf.ToArray());
        var btfSection = file.FindSection(".BTF");
        var btf = btfSection is not null ? Btf.Parse(btfSection.Data.Span) : null;
        var ext = btf is not null && file.FindSection(".BTF.ext") is { } extSection ? BtfExt.Parse(extSection.Data.Span, btf) : null;

        var code = CodeSections.Read(file);
        var poisons = ext is null ? [] : CoRe.CoreRelocator.Apply(file, code, btf!, ext, coreTarget);

        var maps = new MapTable();
        LegacyMaps.Read(file, maps);
        BtfMaps.Read(file, btf, maps);
        GlobalData.Read(file, maps);
        ProgArraySlots.Read(file, code, maps);
        CodeRelocations.Read(file, code, maps);

        var programs = code.Programs.Select(p => Link(p, code, ext, btf, poisons)).ToArray();
        var kernelBtf = btf is null ? null : Elf.KernelBtf.Fix(btfSection!.Data.Span, btf, file);
        return new BpfObject(ReadLicense(file), programs, [.. maps.Maps], [.. GlobalData.Variables(file, btf, maps)], kernelBtf);
    }

    /// <summary>
    /// Links one program with its func_info. What only this program needs and cannot have (an extern, a bad call)
    /// refuses it alone, as libbpf fails only the programs it loads; its siblings load.
    /// </summary>
    private static ObjectProgram Link(CodeFunction function, CodeSections code, BtfExt? ext, Btf? btf, IReadOnlyList<CoRe.CorePoison> poisons)
    {
        try
        {
            var program = ProgramLinker.Link(function, code, ext);
            program.CorePoisons = CoRe.CoreRelocator.PoisonsOf(program, function, poisons);
            if (btf is not null)
            {
                program.FuncInfo = Elf.KernelBtf.FuncInfo(btf, program.Functions);
                program.GlobalFunctions = Elf.GlobalFunctions.Of(btf, program);
            }
            return program;
        }
        catch (BpfLoadException e)
        {
            return new ObjectProgram(function.Name, function.Section.Name, ProgramSections.Classify(function.Section.Name),
                function.Instructions, function.Instructions, [], [new ObjectFunction(0, function.Name)], e.Message);
        }
    }

    /// <summary>
    /// Sets the initial value of a read-only global (<c>const volatile</c> in C, in <c>.rodata</c>) for the next
    /// <see cref="Load"/>: what a skeleton's <c>skel-&gt;rodata-&gt;name = value</c> does before load.
    /// </summary>
    public void SetRodata(string variable, ReadOnlySpan<byte> value)
    {
        var (map, found) = FindRodata(variable, value.Length);
        value.CopyTo(Maps[map].MutableInitialData.AsSpan(found.Offset));
    }

    /// <summary>Sets a read-only global from an unmanaged value (its bytes, little-endian as the program reads them).</summary>
    public void SetRodata<T>(string variable, T value) where T : unmanaged =>
        SetRodata(variable, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>Creates the maps and loads the programs XdpGate runs; see <see cref="LoadedObject"/>.</summary>
    /// <param name="possibleCpus">CPU slots of per-CPU maps.</param>
    /// <param name="rodata">Read-only globals to set for this load only, by variable name.</param>
    /// <param name="verification">How every program is verified before it may run.</param>
    /// <param name="reuse">
    /// Maps of an earlier load to keep using, by name: a declared map (not global data, not a program array) with the
    /// same definition is shared instead of created, so its contents live on (a reload keeps its state).
    /// </param>
    /// <param name="program">
    /// The program that must load (a C function name, else a section name as ip link's <c>sec</c>): its refusal throws,
    /// while the refusal of any other program only leaves that one out (<see cref="LoadedObject.Refused"/>).
    /// </param>
    public LoadedObject Load(int possibleCpus = 1, IReadOnlyDictionary<string, byte[]>? rodata = null,
        VerificationLevel verification = VerificationLevel.Privileged, IReadOnlyDictionary<string, BpfMap>? reuse = null,
        string? program = null)
    {
        var initialData = Maps.Select(m => m.InitialData.ToArray()).ToArray();
        foreach (var (name, value) in rodata ?? new Dictionary<string, byte[]>())
        {
            var (map, found) = FindRodata(name, value.Length);
            value.CopyTo(initialData[map].AsSpan(found.Offset));
        }
        return LoadedObject.Create(this, possibleCpus, initialData, verification, reuse, program);
    }

    /// <summary>The read-only globals (`volatile const`), which a load may set.</summary>
    public IEnumerable<ObjectVariable> RodataVariables => Variables.Where(v => IsRodata(v.Section));

    /// <summary>The read-only global called <paramref name="variable"/>; throws naming it and the known ones when there is none.</summary>
    public ObjectVariable RodataVariable(string variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        if (RodataVariables.FirstOrDefault(v => v.Name == variable) is { } found)
            return found;
        var known = RodataVariables.Select(v => v.Name).ToList();
        throw new BpfLoadException($"rodata variable '{variable}' does not exist; the object's read-only globals are: {(known.Count == 0 ? "(none)" : string.Join(", ", known))}");
    }

    /// <summary>The variable and the index of its map; throws naming the variable when it is not a read-only global of that size.</summary>
    private (int Map, ObjectVariable Variable) FindRodata(string variable, int length)
    {
        var found = RodataVariable(variable);
        if (length != found.Size)
            throw new BpfLoadException($"rodata variable '{variable}' is {found.Size} bytes, the value given is {length}");
        return (Maps.ToList().FindIndex(m => m.Kind == ObjectMapKind.GlobalData && m.Section == found.Section), found);
    }

    private static bool IsRodata(string section) => section == ".rodata" || section.StartsWith(".rodata.", StringComparison.Ordinal);

    private static string ReadLicense(ElfFile file)
    {
        if (file.FindSection("license") is not { } section)
            return "";
        var bytes = section.Data.Span;
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
