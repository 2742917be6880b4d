using XdpGate.Appliance.Builtins.Firewall;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using XdpGate.Linux.Bpf;
using XdpGate.Uapi;

namespace XdpGate.Testing.Firewall;

/// <summary>
/// The built-in firewall loaded into the running kernel (needs CAP_BPF): kernel maps holding the compiled policy and
/// the program verified and JIT-compiled by the kernel, for BPF_PROG_TEST_RUN comparisons and native XDP baselines.
/// </summary>
public sealed class KernelFirewall : IDisposable
{
    private readonly List<BpfMapFd> maps = [];
    private byte[] instructions = [];
    private bpf_func_info[] funcInfo = [];
    private BpfBtfFd? btf;

    private KernelFirewall()
    {
    }

    public BpfProgFd Program { get; private set; } = null!;

    /// <summary>Kernel map fds by map name.</summary>
    public IReadOnlyDictionary<string, BpfMapFd> Maps { get; private set; } = new Dictionary<string, BpfMapFd>();

    public static KernelFirewall Load(CompiledFirewall compiled)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        var obj = FirewallBuiltin.Open();
        // The compiler writes into our maps; their contents are then copied into the kernel's, so both hold the same bytes.
        // Our copy of the program never runs (the kernel's verifier checks the one that does), so it is not verified here.
        using var engine = obj.Load(verification: VerificationLevel.None);
        FirewallMapWriter.Write(compiled, engine.Maps);
        var firewall = new KernelFirewall();
        try
        {
            var byName = new Dictionary<string, BpfMapFd>();
            foreach (var map in obj.Maps)
            {
                var d = map.Definition;
                var fd = BpfSyscall.MapCreate((uint)d.Type, d.KeySize, d.ValueSize, d.MaxEntries, d.Flags, map.Name.Replace('.', '_'));
                firewall.maps.Add(fd);
                byName[map.Name] = fd;
                var ours = engine.Maps[map.Name];
                if (ours.IsPerCpu)
                    continue;
                foreach (var (key, value) in ours.Dump())
                {
                    // Kernel arrays start zeroed: copying only written elements keeps a load to a fraction of a second.
                    if (d.Type != bpf_map_type.BPF_MAP_TYPE_ARRAY || value.AsSpan().ContainsAnyExcept((byte)0))
                        BpfSyscall.MapUpdate(fd, key, value);
                }
            }
            firewall.Maps = byName;
            var program = obj.Programs.Single(p => p.Name == FirewallMaps.Program);
            firewall.btf = BpfSyscall.BtfLoad(obj.KernelBtf() ?? throw new InvalidOperationException("firewall.o has no BTF"));
            firewall.funcInfo = [.. program.FuncInfo.Select(f => new bpf_func_info { insn_off = (uint)f.InstructionIndex, type_id = f.TypeId })];
            firewall.instructions = bpf_insn.ToBytes(KernelRelocation.BindMapFds([.. program.Instructions], [.. firewall.maps.Select(m => m.Fd)]));
            firewall.Program = firewall.LoadProgram();
            return firewall;
        }
        catch
        {
            firewall.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the program once more over the same maps: the kernel verifies it again. With a
    /// <paramref name="logLevel"/> (BPF_LOG_STATS = 4 for the totals) the verifier's log is the result's VerifierLog.
    /// </summary>
    public BpfProgFd LoadProgram(uint logLevel = 0) =>
        BpfSyscall.ProgLoad((uint)bpf_prog_type.BPF_PROG_TYPE_XDP, instructions, "GPL", FirewallMaps.Program, logLevel: logLevel, btf: btf, funcInfo: funcInfo);

    public void Dispose()
    {
        Program?.Dispose();
        btf?.Dispose();
        foreach (var map in maps)
            map.Dispose();
        maps.Clear();
    }
}
