using System.CommandLine;
using System.Globalization;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Cli.Commands;

/// <summary>`xdpgate vm run`: run raw bytecode from stdin over a memory buffer (the uBPF conformance-plugin protocol).</summary>
internal static class VmCommands
{
    public static Command Build(CliIo io)
    {
        var memory = new Option<string>("--mem") { Description = "Input memory as hex (whitespace ignored); r1 points at it, r2 is its length" };
        var engine = EngineOption.Create("interp");
        var run = new Command("run", "Run a program given on stdin as hex bytecode; prints r0 as 0x...") { memory, engine };
        run.SetAction(parsed =>
        {
            var executionEngine = EngineOption.Parse(parsed.GetValue(engine));
            var program = BpfProgram.Load(HexText.Parse(io.In.ReadToEnd(), "program on stdin"), new ProgramOptions { Name = "stdin", Verification = VerificationLevel.None });
            var data = HexText.Parse(parsed.GetValue(memory) ?? "", "--mem");
            using var vm = new BpfVm();
            vm.Trace = io.Error.WriteLine;
            var r0 = executionEngine.Run(vm, program, data);
            if (vm.LastFault.Reason != FaultReason.None)
            {
                io.Error.WriteLine($"error: {vm.LastFault}");
                return ExitCode.Failure;
            }
            io.Out.WriteLine("0x" + r0.ToString("x", CultureInfo.InvariantCulture));
            return ExitCode.Success;
        });
        return new Command("vm", "Run bytecode directly, without an object file") { run };
    }
}
