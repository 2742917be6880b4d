using System.Runtime.InteropServices;
using XdpGate.Bpf.Elf;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>The clang-built objects of tests/data/elf (sources beside them, rebuilt by build.sh) and ways to run their programs.</summary>
internal static class ElfFixtures
{
    /// <summary>Objects that must open and load; the bad_*.o fixtures must not.</summary>
    public static readonly string[] Good = ["xdp_maps.o", "xdp_legacy.o", "xdp_globals.o", "xdp_calls.o", "xdp_rodata_knob.o"];

    /// <summary>Global and static subprograms; it opens, but some programs are refused on purpose, as the kernel refuses them.</summary>
    public const string GlobalFunctions = "xdp_global_funcs.o";

    public static string PathOf(string file) => TestPrograms.DataFile("elf", file);

    public static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    public static BpfObject Open(string file) => BpfObject.Open(PathOf(file));

    /// <summary>The text of line <paramref name="line"/> (1-based) of a fixture's C source.</summary>
    public static string SourceLine(string cFile, int line) => File.ReadAllLines(PathOf(cFile))[line - 1];

    /// <summary>Runs an XDP program on a packet; returns the verdict and the packet as the program left it.</summary>
    public static (xdp_action Verdict, byte[] Packet) RunXdp(BpfProgram program, byte[] packet, BpfVm? vm = null)
    {
        var ownVm = vm is null;
        vm ??= new BpfVm();
        try
        {
            using var frame = new PacketBuffer();
            frame.Reset(packet);
            var verdict = vm.RunXdp(program, ref frame.Context);
            return (verdict, frame.ToArrayWithMetadata());
        }
        finally
        {
            if (ownVm)
                vm.Dispose();
        }
    }

    /// <summary>A map value read from the control plane, as a little-endian unmanaged value.</summary>
    public static T Read<T>(BpfMap map, uint key, int offset = 0) where T : unmanaged
    {
        var value = new byte[map.UserValueSize];
        Xunit.Assert.Equal(0, map.Lookup(BitConverter.GetBytes(key), value));
        return MemoryMarshal.Read<T>(value.AsSpan(offset));
    }

    /// <summary>Whether loading would allocate little: mutated definitions can ask for gigabytes, which is not what the mutation test is about.</summary>
    public static bool SmallEnoughToLoad(BpfObject obj, int cpus) =>
        obj.Maps.Sum(m => (double)m.Definition.MaxEntries * (BpfMap.RoundUp8((int)Math.Min(m.Definition.KeySize, 1u << 20)) + BpfMap.RoundUp8((int)Math.Min(m.Definition.ValueSize, 1u << 20)) + 64) * cpus) < 16 << 20;
}
