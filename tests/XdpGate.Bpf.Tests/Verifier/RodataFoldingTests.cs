using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Fixtures;
using XdpGate.Bpf.Tests.Elf;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Linux.Bpf;
using Xunit;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// tests/data/elf/xdp_rodata_knob.c: a <c>volatile const</c> knob in .rodata guards a packet read never checked
/// against data_end. With .rodata frozen (as libbpf and our loader leave it) the kernel and we both read the knob as
/// a constant: off, the read is never explored and the program is accepted; overridden on, both refuse it.
/// </summary>
public sealed class RodataFoldingTests
{
    private const string Fixture = "xdp_rodata_knob.o";
    private static readonly Dictionary<string, byte[]> KnobOn = new() { ["read_unchecked"] = BitConverter.GetBytes(1u) };

    [Fact]
    public void A_disabled_knob_hides_the_unchecked_read_from_our_verifier()
    {
        using var loaded = ElfFixtures.Open(Fixture).Load();
        Assert.True(loaded.Maps[".rodata"].IsFrozen);
        Assert.Contains("rodata_knob", loaded.Programs.Keys);
    }

    [Fact]
    public void A_knob_overridden_on_gets_the_unchecked_read_refused_by_our_verifier()
    {
        var refusal = Assert.Throws<BpfLoadException>(() => ElfFixtures.Open(Fixture).Load(rodata: KnobOn));
        Assert.Contains("invalid access to packet", refusal.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_kernel_accepts_the_program_with_the_knob_off_and_refuses_it_with_the_knob_on()
    {
        KernelObject.Require();
        Assert.Null(KernelRefusal(ElfFixtures.Open(Fixture), freeze: true));

        var on = ElfFixtures.Open(Fixture);
        on.SetRodata("read_unchecked", 1u);
        Assert.Contains("invalid access to packet", KernelRefusal(on, freeze: true), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Without_freezing_the_kernel_and_we_both_explore_the_disabled_side_and_refuse()
    {
        KernelObject.Require();
        var obj = ElfFixtures.Open(Fixture);
        Assert.Contains("invalid access to packet", KernelRefusal(obj, freeze: false), StringComparison.Ordinal);

        using var engine = new EngineObjectLoad([.. obj.Maps.Select(m => m.Definition)], possibleCpus: 1);
        engine.Update(0, new byte[4], obj.Maps[0].InitialData.ToArray());
        var refusal = Assert.Throws<XdpGate.Bpf.Verifier.VerifierException>(() => engine.Load(obj, obj.Programs[0]));
        Assert.Contains("invalid access to packet", refusal.Message, StringComparison.Ordinal);
    }

    /// <summary>The kernel's verifier log of refusing the object's program with .rodata written (and frozen, as libbpf does), or null.</summary>
    private static string? KernelRefusal(BpfObject obj, bool freeze)
    {
        using var kernel = new KernelObject([.. obj.Maps.Select(m => m.Definition)]);
        if (freeze)
        {
            ObjectFixture.WriteGlobalData(obj, kernel);
        }
        else
        {
            for (var i = 0; i < obj.Maps.Count; i++)
                kernel.Update(i, new byte[4], obj.Maps[i].InitialData.ToArray());
        }
        try
        {
            kernel.Load(obj, obj.Programs.Single());
            return null;
        }
        catch (BpfSyscallException e) when (e.Command == bpf_cmd.BPF_PROG_LOAD)
        {
            return e.VerifierLog;
        }
    }
}
