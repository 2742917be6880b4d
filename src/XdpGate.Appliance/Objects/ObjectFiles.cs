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

    /// <summary>The program called <paramref name="name"/>, or the object's first program when no name is given.</summary>
    public static BpfProgram Select(LoadedObject loaded, string? name)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        if (name is null)
        {
            var first = loaded.Object.Programs.FirstOrDefault()
                ?? throw new BpfLoadException("the object has no programs");
            return loaded.Programs[first.Name];
        }
        return loaded.Programs.TryGetValue(name, out var program)
            ? program
            : throw new BpfLoadException($"no program named '{name}' (programs: {string.Join(", ", loaded.Object.Programs.Select(p => p.Name))})");
    }
}
