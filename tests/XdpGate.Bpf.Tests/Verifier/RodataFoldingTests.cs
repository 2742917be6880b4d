using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Tests.Elf;
using XdpGate.Bpf.Tests.Kernel;
using XdpGate.Linux.Bpf;
using XdpGate.Testing.Fixtures;
using XdpGate.Testing.Kernel;
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
        var ours = new[] { false, true }.Select(on => Verdict(on, frozen: true, OurRefusal(Knob(on), freeze: true))).ToList();
        KernelOracle.Check("kernel/rodata-knob.txt", "the kernel verifier on xdp_rodata_knob.o with its knob off and on, .rodata frozen", ours,
            () => [.. new[] { false, true }.Select(on => Verdict(on, frozen: true, KernelRefusal(Knob(on), freeze: true)))]);
    }

    [SkippableFact]
    public void Without_freezing_the_kernel_and_we_both_explore_the_disabled_side_and_refuse()
    {
        KernelOracle.Check("kernel/rodata-knob-not-frozen.txt", "the kernel verifier on xdp_rodata_knob.o with its knob off, .rodata written but not frozen",
            [Verdict(on: false, frozen: false, OurRefusal(Knob(on: false), freeze: false))],
            () => [Verdict(on: false, frozen: false, KernelRefusal(Knob(on: false), freeze: false))]);
    }

    private static BpfObject Knob(bool on)
    {
        var obj = ElfFixtures.Open(Fixture);
        if (on)
            obj.SetRodata("read_unchecked", 1u);
        return obj;
    }

    /// <summary>A verdict as a fact: refusals by whether they are the packet access the knob guards.</summary>
    private static string Verdict(bool on, bool frozen, string? refusal) =>
        $"knob {(on ? "on" : "off")}, .rodata {(frozen ? "frozen" : "not frozen")}: " + (refusal is null ? "accepted"
            : refusal.Contains("invalid access to packet", StringComparison.Ordinal) ? "refused: invalid access to packet" : $"refused: {refusal}");

    /// <summary>Our verifier's refusal of the object's program with .rodata written (and frozen, as our loader does), or null.</summary>
    private static string? OurRefusal(BpfObject obj, bool freeze)
    {
        using var engine = new EngineObjectLoad([.. obj.Maps.Select(m => m.Definition)], possibleCpus: 1);
        if (freeze)
            ObjectFixture.WriteGlobalData(obj, engine);
        else
            engine.Update(0, new byte[4], obj.Maps[0].InitialData.ToArray());
        try
        {
            engine.Load(obj, obj.Programs.Single());
            return null;
        }
        catch (XdpGate.Bpf.Verifier.VerifierException e)
        {
            return e.Message;
        }
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
