using System.Reflection;
using System.Runtime.CompilerServices;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Execution;

/// <summary>
/// Compiles, ahead of the first packet, the code a program's runs will reach: the interpreter, every helper and
/// the map methods of the maps it uses. Without this the first run pays for JIT compilation (milliseconds), which
/// a timed single run (`prog run`) would report as the program's cost. It runs nothing, so no state changes.
/// </summary>
public static class Warmup
{
    public static void Prepare(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        PrepareAll(typeof(Interpreter));
        PrepareAll(typeof(BpfRuntime));
        PrepareAll(typeof(BpfVm));
        var loop = typeof(BpfRuntime).GetMethod(nameof(BpfRuntime.Loop), BindingFlags.NonPublic | BindingFlags.Static)!;
        RuntimeHelpers.PrepareMethod(loop.MethodHandle, [typeof(Interpreter.Callbacks).TypeHandle]);
        RuntimeHelpers.PrepareMethod(loop.MethodHandle, [typeof(Jit.JitRuntime.Callbacks).TypeHandle]);
        RuntimeHelpers.RunClassConstructor(typeof(HelperTable).TypeHandle);
        foreach (var type in typeof(HelperTable).Assembly.GetTypes().Where(t => t.Namespace == typeof(HelperTable).Namespace))
            PrepareAll(type);
        foreach (var map in program.Maps)
            PrepareAll(map.GetType());
    }

    private static void PrepareAll(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var method in type.GetMethods(all))
        {
            if (!method.IsAbstract && !method.ContainsGenericParameters)
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
        }
    }
}
