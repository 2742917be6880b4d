using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Elf;

/// <summary>
/// The global subprograms of a linked program and what the kernel's btf_prepare_func_args makes of their BTF
/// FUNC_PROTO. Only with func_info (every function has a FUNC): without it the kernel treats every subprogram as static.
/// </summary>
internal static class GlobalFunctions
{
    /// <summary>The kernel's MAX_BPF_FUNC_REG_ARGS: arguments travel in r1-r5.</summary>
    private const int MaxArgs = 5;

    public static GlobalFunction[] Of(Btf btf, ObjectProgram program)
    {
        var functions = new List<GlobalFunction>();
        foreach (var info in program.FuncInfo)
        {
            var where = $"program '{program.Name}': func_info at instruction {info.InstructionIndex}";
            var func = btf.Type(info.TypeId, where);
            // The entry program is global too, but the kernel verifies it from the context like any program.
            if (info.InstructionIndex != 0 && func.Kind == BTF_KIND_FUNC && func.Vlen == BTF_FUNC_GLOBAL)
                functions.Add(Prepare(btf, func, info.InstructionIndex, ContextStruct(program.Type), where));
        }
        return [.. functions];
    }

    /// <summary>The struct a program type's context pointer points to, by its uapi name.</summary>
    private static string ContextStruct(bpf_prog_type type) =>
        type == bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER ? "__sk_buff" : "xdp_md";

    private static GlobalFunction Prepare(Btf btf, BtfType func, int start, string contextStruct, string where)
    {
        var name = func.Name;
        var proto = btf.Type(func.SizeOrType, where);
        if (proto.Kind != BTF_KIND_FUNC_PROTO)
            throw new BpfLoadException($"{where}: FUNC '{name}' has type {proto}, not a FUNC_PROTO");
        GlobalFunction Refused(string why) => new(start, name, [], why);
        if (proto.Params.Length > MaxArgs)
            return Refused($"Global function {name}() with {proto.Params.Length} > {MaxArgs} args. Buggy compiler.");
        if (!IsScalar(btf.SkipModsAndTypedefs(proto.SizeOrType, where)))
            return Refused($"Global function {name}() doesn't return scalar. Only those are supported.");
        var args = new GlobalFunctionArg[proto.Params.Length];
        for (var i = 0; i < args.Length; i++)
        {
            var type = btf.SkipModsAndTypedefs(proto.Params[i].Type, where);
            if (IsScalar(type))
            {
                args[i] = new GlobalFunctionArg(GlobalFunctionArgKind.Scalar);
                continue;
            }
            if (type.Kind != BTF_KIND_PTR)
                return Refused($"Arg#{i} type {KindName(type.Kind)} in {name}() is not supported yet.");
            var target = btf.SkipModsAndTypedefs(type.SizeOrType, where);
            if (target.Kind == BTF_KIND_STRUCT && target.Name == contextStruct)
            {
                args[i] = new GlobalFunctionArg(GlobalFunctionArgKind.Context);
                continue;
            }
            var size = SizeOf(btf, target, where);
            if (size is null or > int.MaxValue)
            {
                // The kernel's btf_type_str calls void "UNKNOWN", and void has no name.
                var described = target.Id == 0 ? "UNKNOWN " : $"{KindName(target.Kind)} {target.Name}";
                return Refused($"arg#{i} reference type('{described}') size cannot be determined: -22");
            }
            args[i] = new GlobalFunctionArg(GlobalFunctionArgKind.Memory, (int)size);
        }
        return new GlobalFunction(start, name, args);
    }

    private static bool IsScalar(BtfType type) => type.Kind is BTF_KIND_INT or BTF_KIND_ENUM or BTF_KIND_ENUM64;

    /// <summary>The pointed-to type's size (0 for an empty struct, which the kernel takes), or null for types without one
    /// (void, a forward declaration, a function).</summary>
    private static uint? SizeOf(Btf btf, BtfType type, string where)
    {
        try
        {
            return btf.ResolveSize(type.Id, where);
        }
        catch (BpfLoadException)
        {
            return null;
        }
    }
}
