using System.CommandLine;
using System.Globalization;
using XdpGate.Bpf.Verifier;

namespace XdpGate.Cli.Commands;

/// <summary>`xdpgate prog verify OBJ [--prog NAME] [--strict] [-v]`: the verifier's verdict on each program, with its cost.</summary>
internal static class ProgVerifyCommand
{
    public static Command Build(CliIo io)
    {
        var obj = new Argument<string>("OBJ") { Description = "Object file (clang -O2 -g -target bpf), or a .c file to compile" };
        var name = new Option<string?>("--prog") { Description = "Program (C function) name, or section name; default: every program XdpGate runs" };
        var strict = new Option<bool>("--strict") { Description = "Add the kernel's unprivileged rules: no pointer leaks, no uninitialized stack reads, no leaking pointer comparisons" };
        var verbose = new Option<bool>("-v", "--verbose") { Description = "Print the path log: every instruction explored, with the registers" };
        var rodata = RodataOption.Create();
        var command = new Command("verify", "Verify programs as the kernel's verifier would, and report instructions processed, states and time") { obj, name, strict, verbose, rodata };
        command.SetAction(parsed =>
        {
            var level = parsed.GetValue(strict) ? VerificationLevel.Strict : VerificationLevel.Privileged;
            // Linked without verification, so each program is verified (and reported) on its own below.
            using var loaded = RodataOption.Load(parsed.GetValue(obj)!, parsed.GetValue(rodata), Environment.ProcessorCount, VerificationLevel.None,
                parsed.GetValue(name));
            var selected = loaded.Object.Programs.Select(p => p.Name).Where(loaded.Programs.ContainsKey).ToArray();
            var refused = 0;
            foreach (var program in selected)
            {
                try
                {
                    var result = BpfVerifier.Verify(loaded.Programs[program], level, parsed.GetValue(verbose));
                    io.Out.Write(result.Log);
                    io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{program}: accepted ({Name(level)}): processed {result.InstructionsProcessed} insns, peak_states {result.PeakStates}, total_states {result.TotalStates}, time {result.Elapsed.TotalMilliseconds:0.###} ms"));
                }
                catch (VerifierException e)
                {
                    io.Out.Write(e.Log);
                    io.Out.WriteLine($"{program}: refused ({Name(level)}, {e.Rule.Name()}): {e.Message}");
                    refused++;
                }
            }
            foreach (var (program, why) in loaded.Refused)
            {
                io.Out.WriteLine($"{program}: refused before verification: {why}");
                refused++;
            }
            if (parsed.GetValue(name) is null)
            {
                foreach (var (program, why) in loaded.Unloaded)
                    io.Out.WriteLine($"{program}: not verified: {why}");
            }
            return refused == 0 ? ExitCode.Success : ExitCode.Failure;
        });
        return command;
    }

    private static string Name(VerificationLevel level) => level == VerificationLevel.Strict ? "strict" : "privileged";
}
