using XdpGate.Bpf;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Program;

namespace XdpGate.Appliance.Objects;

/// <summary>
/// Opens what users name as a program: a clang-compiled object, or C source that is compiled first (once: see
/// <see cref="CompileCache"/>).
/// </summary>
public static class ObjectFiles
{
    public static BpfObject Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new BpfLoadException($"{path}: no such file");
        return path.EndsWith(".c", StringComparison.Ordinal) ? BpfObject.Open(CompileCache.Default.Compile(path)) : BpfObject.Open(path);
    }

    /// <summary>
    /// The loaded program <paramref name="name"/> names (<see cref="BpfObject.FindProgram"/>), or the object's first loaded
    /// program when no name is given; throws saying why a program is not loaded.
    /// </summary>
    public static BpfProgram Select(LoadedObject loaded, string? name)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        if (name is null)
        {
            var first = loaded.Object.Programs.FirstOrDefault(p => loaded.Programs.ContainsKey(p.Name))
                ?? throw new BpfLoadException(loaded.Object.Programs.Count == 0 ? "the object has no programs"
                    : $"the object has no program XdpGate runs ({string.Join("; ", loaded.Unloaded.Select(u => $"'{u.Key}': {u.Value}"))})");
            return loaded.Programs[first.Name];
        }
        var named = loaded.Object.ProgramNamed(name);
        if (loaded.Programs.TryGetValue(named.Name, out var program))
            return program;
        throw new BpfLoadException(loaded.Refused.TryGetValue(named.Name, out var refusal) ? refusal
            : $"program '{named.Name}' is not loaded: {loaded.Unloaded.GetValueOrDefault(named.Name, "unknown reason")}");
    }
}
