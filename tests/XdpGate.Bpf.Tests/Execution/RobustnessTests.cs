using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Isa;
using XdpGate.Bpf.Verifier;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Execution;

/// <summary>
/// Random well-formed programs, calling random helpers with random arguments, loaded and run without a verifier:
/// every run must end (value or fault), never crash the process or corrupt the memory around the frame.
/// </summary>
public sealed unsafe class RobustnessTests
{
    private static readonly int[] HelperIds = Enum.GetValues<bpf_func_id>().Select(id => (int)id).Where(id => id != 0).ToArray();

    [Fact]
    public void Random_programs_never_crash_the_host_and_never_write_outside_the_frame()
    {
        var random = new Random(20261125);
        var rows = IsaData.Opcodes.Where(r => Class(r.Code) != BPF_LD || r.Code == (BPF_LD | BPF_IMM | BPF_DW)).ToArray();
        using var array = new ArrayMap(new MapDefinition("array", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 16, 4));
        using var ring = new RingBufMap(new MapDefinition("ring", bpf_map_type.BPF_MAP_TYPE_RINGBUF, 0, 0, 4096));
        using var programs = new ProgArrayMap(new MapDefinition("jmp", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2));
        using var vm = new BpfVm { BackwardJumpLimit = 1000 };
        using var frame = new PacketBuffer();
        var packet = Packets.Udp4(53);
        int loaded = 0, faulted = 0;

        for (var n = 0; n < 20_000; n++)
        {
            var insns = RandomProgram(random, rows, length: random.Next(2, 24));
            BpfProgram program;
            try
            {
                program = BpfProgram.Load(insns, new ProgramOptions
                {
                    Type = bpf_prog_type.BPF_PROG_TYPE_XDP,
                    Maps = [array, ring, programs],
                    // Unverified on purpose: what is under test is that run-time checks keep any program from harming the host.
                    Verification = VerificationLevel.None,
                });
            }
            catch (BpfLoadException)
            {
                continue;
            }
            loaded++;
            programs.SetProgram(0, program);
            frame.Reset(packet);
            var head = new Span<byte>(frame.Context.HardStart, XdpLayout.XdpFrameSize);
            var tail = new Span<byte>(frame.Context.HardEnd, XdpLayout.SkbSharedInfoSize);
            head.Fill(0xa5);
            tail.Fill(0xa5);
            vm.RunXdp(program, ref frame.Context);
            if (vm.LastFault.Reason != FaultReason.None)
                faulted++;
            Assert.True(head.IndexOfAnyExcept((byte)0xa5) < 0 && tail.IndexOfAnyExcept((byte)0xa5) < 0,
                $"program wrote outside the frame's packet area:\n{Disassembler.Disassemble(program.Instructions.ToArray())}");
        }
        Assert.True(loaded > 5_000, $"only {loaded} random programs loaded");
        Assert.True(faulted > 100, $"only {faulted} faulted: the generator is too tame");
    }

    private static bpf_insn[] RandomProgram(Random random, OpcodeRow[] rows, int length)
    {
        var insns = new List<bpf_insn>
        {
            // Give the program pointers worth misusing: packet start and end, and a map handle.
            new(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0),
            new(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 4, 0),
        };
        while (insns.Count < length)
        {
            if (random.Next(6) == 0)
            {
                insns.Add(new bpf_insn(BPF_LD | BPF_IMM | BPF_DW, random.Next(1, 6), BPF_PSEUDO_MAP_IDX, 0, random.Next(3)));
                insns.Add(default);
                continue;
            }
            if (random.Next(5) == 0)
            {
                insns.Add(new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, HelperIds[random.Next(HelperIds.Length)]));
                continue;
            }
            var sample = IsaData.RandomInstruction(rows, random, -4, 6);
            var insn = sample[0];
            if (Class(insn.code) is BPF_LDX or BPF_ST or BPF_STX)
                insn.off = (short)random.Next(-16, 80);
            insns.Add(insn);
            if (sample.Length == 2)
                insns.Add(sample[1]);
        }
        insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2));
        insns.Add(new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        return [.. insns];
    }
}
