using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Tests;

/// <summary>Every execution engine, so data-driven suites run each case on all of them.</summary>
internal static class Engines
{
    public static readonly IReadOnlyList<string> Names = ExecutionEngines.Names;

    public static ulong Run(string engine, BpfVm vm, BpfProgram program, Span<byte> memory) =>
        ExecutionEngines.Parse(engine).Run(vm, program, memory);

    public static xdp_action RunXdp(string engine, BpfVm vm, BpfProgram program, ref XdpContext context) =>
        ExecutionEngines.Parse(engine).RunXdp(vm, program, ref context);
}
