using System.Text.RegularExpressions;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Linux.Bpf;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The running kernel's verdict on a verifier case, as root: its maps made by BPF_MAP_CREATE, its lddw map_by_idx
/// bound to their fds, BTF func_info added when the program takes a function's address, then BPF_PROG_LOAD
/// (a refusal is retried with log_level 1, so the verifier log comes back).
/// </summary>
internal static partial class KernelVerifier
{
    public readonly record struct Verdict(bool Accepted, string Log)
    {
        /// <summary>The line the verifier stated its reason in (see <see cref="ErrorLine"/>); empty when accepted.</summary>
        public string Reason => Accepted ? "" : ErrorLine(Log);
    }

    public static Verdict Load(VerifierCase testCase)
    {
        var maps = new List<BpfMapFd>();
        BpfBtfFd? btf = null;
        try
        {
            foreach (var d in testCase.Maps)
                maps.Add(BpfSyscall.MapCreate((uint)d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags, KernelObject.KernelName(d.Name)));
            var bound = KernelRelocation.BindMapFds(testCase.Program, maps.Select(m => m.Fd).ToList());
            bpf_func_info[] funcInfo = [];
            if (FunctionBtf.Needed(testCase.Program))
            {
                var starts = FunctionBtf.FunctionStarts(testCase.Program);
                btf = BpfSyscall.BtfLoad(FunctionBtf.Build(starts.Length));
                funcInfo = starts.Select((start, i) => new bpf_func_info { insn_off = (uint)start, type_id = FunctionBtf.FunctionType(i) }).ToArray();
            }
            try
            {
                using var program = BpfSyscall.ProgLoad((uint)testCase.Type, bpf_insn.ToBytes(bound), "GPL", "verifier_case", btf: btf, funcInfo: funcInfo);
                return new Verdict(true, program.VerifierLog);
            }
            catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_PROG_LOAD)
            {
                // A refusal before the verifier runs (e.g. E2BIG) leaves no log: the errno is the reason then.
                return new Verdict(false, e.VerifierLog.Length > 0 ? e.VerifierLog : e.Message);
            }
        }
        finally
        {
            btf?.Dispose();
            foreach (var map in maps)
                map.Dispose();
        }
    }

    /// <summary>
    /// The verifier's reason in a refusal's log: the first line after the last line of the instruction trace
    /// ("N: (op) ...", "from N to M: ...", "; source"), ignoring the statistics line it ends with.
    /// </summary>
    public static string ErrorLine(string log)
    {
        var lines = log.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0 && !l.StartsWith("processed ", StringComparison.Ordinal)).ToArray();
        var first = lines.Length;
        while (first > 0 && !TraceLine().IsMatch(lines[first - 1]))
            first--;
        return first < lines.Length ? lines[first] : lines.LastOrDefault() ?? "";
    }

    [GeneratedRegex(@"^(\d+: |from \d+ to \d+: |; |mark_precise|last_idx|regs=|parent )")]
    private static partial Regex TraceLine();
}
