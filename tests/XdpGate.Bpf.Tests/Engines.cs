using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Program;

namespace XdpGate.Bpf.Tests;

/// <summary>Every execution engine, so data-driven suites run each case on all of them.</summary>
internal static class Engines
{
    public static readonly string[] Names = ["interp", "jit"];

    public static ulong Run(string engine, BpfVm vm, BpfProgram program, Span<byte> memory) => engine switch
    {
        "interp" => vm.Run(program, memory),
        "jit" => JitCompiler.Compile(program).Run(vm, memory),
        _ => throw new ArgumentException($"unknown engine {engine}", nameof(engine)),
    };
}
