using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

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

    public static xdp_action RunXdp(string engine, BpfVm vm, BpfProgram program, ref XdpContext context) => engine switch
    {
        "interp" => vm.RunXdp(program, ref context),
        "jit" => JitCompiler.Compile(program).RunXdp(vm, ref context),
        _ => throw new ArgumentException($"unknown engine {engine}", nameof(engine)),
    };
}
