using System.Text.RegularExpressions;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Linux;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The running kernel's verdict on a verifier case, as root: its maps made by BPF_MAP_CREATE (written and frozen as
/// its <c>-- map data</c> says), its lddw map_by_idx
/// bound to their fds, BTF func_info added when the program takes a function's address, then BPF_PROG_LOAD with
/// log_level BPF_LOG_STATS: the log then holds the verifier's reasons and statistics without the instruction trace,
/// whose printing would make a program that exhausts the budget take three times as long.
/// <para>
/// Unprivileged, the load runs on a thread whose effective capabilities are only CAP_BPF and CAP_NET_ADMIN: the
/// kernel verifier then applies the rules it keeps for loaders without CAP_PERFMON (no pointer leaks, no
/// uninitialized stack reads, no pointer comparisons), which is what our strict level adds to the default one.
/// </para>
/// </summary>
internal static partial class KernelVerifier
{
    public readonly record struct Verdict(bool Accepted, string Log)
    {
        /// <summary>The line the verifier stated its reason in (see <see cref="ErrorLine"/>); empty when accepted.</summary>
        public string Reason => Accepted ? "" : ErrorLine(Log);
    }

    /// <summary>What a loader with only CAP_BPF and CAP_NET_ADMIN holds in its effective set.</summary>
    private static readonly ulong Unprivileged = Capabilities.Bit(Capabilities.CAP_BPF) | Capabilities.Bit(Capabilities.CAP_NET_ADMIN);

    public static Verdict Load(VerifierCase testCase, bool unprivileged = false)
    {
        var maps = new List<BpfMapFd>();
        BpfBtfFd? btf = null;
        try
        {
            foreach (var d in testCase.Maps)
                maps.Add(BpfSyscall.MapCreate((uint)d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags, KernelObject.KernelName(d.Name)));
            foreach (var data in testCase.Data)
            {
                var map = maps[data.Map];
                if (data.Value is { } value)
                    BpfSyscall.MapUpdate(map, new byte[map.KeySize], value);
                if (data.Frozen)
                    BpfSyscall.MapFreeze(map);
            }
            var bound = KernelRelocation.BindMapFds(testCase.Program, maps.Select(m => m.Fd).ToList());
            bpf_func_info[] funcInfo = [];
            if (FunctionBtf.Needed(testCase.Program))
            {
                var starts = FunctionBtf.FunctionStarts(testCase.Program);
                btf = BpfSyscall.BtfLoad(FunctionBtf.Build(starts.Length));
                funcInfo = starts.Select((start, i) => new bpf_func_info { insn_off = (uint)start, type_id = FunctionBtf.FunctionType(i) }).ToArray();
            }
            var insns = bpf_insn.ToBytes(bound);
            Verdict ProgLoad()
            {
                try
                {
                    using var program = BpfSyscall.ProgLoad((uint)testCase.Type, insns, "GPL", "verifier_case", logLevel: BpfSyscall.BPF_LOG_STATS, btf: btf, funcInfo: funcInfo);
                    return new Verdict(true, program.VerifierLog);
                }
                catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_PROG_LOAD)
                {
                    // A refusal before the verifier runs (e.g. E2BIG) leaves no log, and some refusals inside it leave only
                    // statistics (a failed bpf_map_direct_read): the errno is the reason then.
                    return new Verdict(false, ErrorLine(e.VerifierLog).Length > 0 ? e.VerifierLog : $"BPF_PROG_LOAD: {ErrnoText.Describe(e.Errno)}\n{e.VerifierLog}");
                }
            }
            return unprivileged ? OnOwnThread(() => Capabilities.WithEffective(Unprivileged, ProgLoad)) : ProgLoad();
        }
        finally
        {
            btf?.Dispose();
            foreach (var map in maps)
                map.Dispose();
        }
    }

    /// <summary>Capabilities are per thread: a thread of its own keeps the narrowed set away from the test runner's pool.</summary>
    private static Verdict OnOwnThread(Func<Verdict> load)
    {
        Verdict verdict = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                verdict = load();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? verdict : throw new InvalidOperationException($"loading without CAP_PERFMON failed: {failure.Message}", failure);
    }

    /// <summary>
    /// The verifier's reason in a refusal's log of any level: the last line before the statistics that close it
    /// (a BPF_LOG_STATS log has only the reason before them).
    /// </summary>
    public static string Reason(string log)
    {
        var lines = log.Split('\n').Select(l => Statistics().Replace(l, "").TrimEnd()).ToList();
        var end = lines.FindIndex(l => l.StartsWith("processed ", StringComparison.Ordinal) || l.StartsWith("verification time", StringComparison.Ordinal));
        return lines.Take(end < 0 ? lines.Count : end).LastOrDefault(l => l.Length > 0) ?? "";
    }

    /// <summary>
    /// The verifier's reason in a refusal's BPF_LOG_STATS log: its first line, without the statistics that follow
    /// (the kernel sometimes appends them to the reason without a newline).
    /// </summary>
    public static string ErrorLine(string log) =>
        log.Split('\n').Select(l => Statistics().Replace(l, "").TrimEnd()).FirstOrDefault(l => l.Length > 0) ?? "";

    [GeneratedRegex(@"(verification time \d+ usec|stack depth \d+.*|processed \d+ insns \(limit.*)$")]
    private static partial Regex Statistics();
}
