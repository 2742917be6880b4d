using System.Globalization;
using System.Runtime.InteropServices;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Tests.Isa;
using XdpGate.Bpf.Verifier;
using XdpGate.Bpf.Xdp;
using XdpGate.Uapi;
using Xunit.Abstractions;
using Xunit;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Jit;

/// <summary>
/// Random well-formed programs (XDP ones with maps, helpers, calls, callbacks and tail calls; plain ones with legacy
/// packet loads) on random inputs, each run on the interpreter and on the JIT from the same starting state: r0,
/// the fault (reason, pc, address, size), the whole frame, the context, the redirect state and the maps must agree.
/// XDPGATE_FUZZ_PROGRAMS sets how many programs (default 20,000), XDPGATE_FUZZ_SEED the seed.
/// </summary>
/// <remarks>
/// Not run in parallel with other tests: programs compute map handles (a handle plus one is the next map's), so a
/// map another test creates or disposes between the two runs would make them disagree for reasons of their own.
/// </remarks>
[Collection(nameof(DifferentialFuzzTests))]
public sealed unsafe class DifferentialFuzzTests(ITestOutputHelper output)
{
    // Helpers whose results do not depend on time or randomness, so both runs must agree on them.
    internal static readonly int[] XdpHelpers =
    [
        .. new[]
        {
            bpf_func_id.BPF_FUNC_map_lookup_elem, bpf_func_id.BPF_FUNC_map_update_elem, bpf_func_id.BPF_FUNC_map_delete_elem,
            bpf_func_id.BPF_FUNC_trace_printk, bpf_func_id.BPF_FUNC_get_smp_processor_id, bpf_func_id.BPF_FUNC_tail_call,
            bpf_func_id.BPF_FUNC_csum_diff, bpf_func_id.BPF_FUNC_loop, bpf_func_id.BPF_FUNC_redirect, bpf_func_id.BPF_FUNC_redirect_map,
            bpf_func_id.BPF_FUNC_xdp_adjust_head, bpf_func_id.BPF_FUNC_xdp_adjust_meta, bpf_func_id.BPF_FUNC_xdp_adjust_tail,
            bpf_func_id.BPF_FUNC_xdp_get_buff_len, bpf_func_id.BPF_FUNC_xdp_load_bytes, bpf_func_id.BPF_FUNC_xdp_store_bytes,
        }.Select(id => (int)id),
    ];

    private static readonly int[] PlainHelpers = XdpHelpers.Where(id => HelperTable.IsAvailable(id, bpf_prog_type.BPF_PROG_TYPE_UNSPEC)).ToArray();

    [Fact]
    public void Interpreter_and_jit_agree_on_random_programs()
    {
        // Maps other tests left to the finalizer go now, not between an interpreter run and its JIT run.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var count = int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_FUZZ_PROGRAMS"), CultureInfo.InvariantCulture, out var n) ? n : 20_000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("XDPGATE_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261125;
        var random = new Random(seed);
        var xdpRows = IsaData.Opcodes.Where(r => Class(r.Code) != BPF_LD || r.Code == (BPF_LD | BPF_IMM | BPF_DW)).ToArray();
        var plainRows = IsaData.Opcodes.ToArray();

        using var array = new ArrayMap(new MapDefinition("array", bpf_map_type.BPF_MAP_TYPE_ARRAY, 4, 16, 4));
        using var perCpu = new ArrayMap(new MapDefinition("percpu", bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 2), 2);
        using var programs = new ProgArrayMap(new MapDefinition("jmp", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2));
        BpfMap[] maps = [array, perCpu, programs];
        using var vm = new BpfVm(processorId: 1) { BackwardJumpLimit = 1000 };
        using var frame = new PacketBuffer();
        // Pinned: r1 is its address, and a fault names addresses, so a GC move between the two runs would differ.
        var plainMemory = GC.AllocateArray<byte>(64, pinned: true);
        var plainInput = new byte[64];
        int loaded = 0, faulted = 0, compared = 0;
        var reasons = new Dictionary<FaultReason, int>();
        // Slot 1 holds an earlier program of the same kind, so tail calls also cross between programs.
        BpfProgram? previousXdp = null, previousPlain = null;

        // count is programs compared; only about a third of random programs load (the rest have jumps out of range, bad lddw forms...).
        for (var iteration = 0; compared < count && iteration < count * 10; iteration++)
        {
            var xdp = random.Next(4) != 0;
            var insns = RandomProgram(random, xdp ? xdpRows : plainRows, xdp ? XdpHelpers : PlainHelpers, xdp, random.Next(2, 28));
            BpfProgram program;
            try
            {
                program = BpfProgram.Load(insns, new ProgramOptions
                {
                    Name = "fuzz",
                    Type = xdp ? bpf_prog_type.BPF_PROG_TYPE_XDP : bpf_prog_type.BPF_PROG_TYPE_UNSPEC,
                    Maps = maps,
                    // Unverified on purpose: engines must agree (and fault alike) on programs the verifier would refuse too.
                    Verification = VerificationLevel.None,
                });
            }
            catch (BpfLoadException)
            {
                continue;
            }
            loaded++;
            programs.SetProgram(0, program);
            programs.SetProgram(1, xdp ? previousXdp : previousPlain);
            if (random.Next(4) == 0)
            {
                if (xdp) previousXdp = program;
                else previousPlain = program;
            }
            var jit = JitCompiler.Compile(program);

            var packet = RandomPacket(random);
            random.NextBytes(plainInput);
            var plainLength = random.Next(plainInput.Length + 1);
            var ifindex = (uint)random.Next(1, 5);

            Outcome Run(bool useJit)
            {
                Reset(vm, maps);
                frame.Reset(packet, ifindex);
                ulong r0;
                if (xdp)
                {
                    r0 = (ulong)(useJit ? jit.RunXdp(vm, ref frame.Context) : vm.RunXdp(program, ref frame.Context));
                }
                else
                {
                    plainInput.CopyTo(plainMemory, 0);
                    var memory = plainMemory.AsSpan(0, plainLength);
                    r0 = useJit ? jit.Run(vm, memory) : vm.Run(program, memory);
                }
                return new Outcome(r0, vm.LastFault,
                    new ReadOnlySpan<byte>(frame.Context.HardStart, (int)frame.Context.FrameSize).ToArray(),
                    frame.Context.Data - frame.Context.HardStart, frame.Context.DataEnd - frame.Context.HardStart,
                    frame.Context.DataMeta - frame.Context.HardStart, Convert.ToHexString(plainMemory), MapBytes(maps),
                    vm.RedirectIfindex, vm.RedirectMap?.Name, vm.RedirectKey, vm.RedirectFlags);
            }

            var expected = Run(useJit: false);
            var actual = Run(useJit: true);
            if (expected.Fault.Reason != FaultReason.None)
                faulted++;
            reasons[expected.Fault.Reason] = reasons.GetValueOrDefault(expected.Fault.Reason) + 1;
            compared++;
            if (!expected.SameAs(actual))
            {
                Assert.Fail($"seed {seed}, program {iteration} ({(xdp ? "XDP" : "plain")}): interpreter and JIT disagree\n" +
                            $"interpreter: r0 = 0x{expected.R0:x}, {expected.Fault}\nJIT:         r0 = 0x{actual.R0:x}, {actual.Fault}\n" +
                            $"{expected.Difference(actual)}\n{Disassembler.Disassemble(insns)}");
            }
        }
        programs.SetProgram(0, null);
        programs.SetProgram(1, null);
        output.WriteLine($"{count} programs compared, {loaded} loaded, {faulted} faulted: {string.Join(", ", reasons.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"))}");
        Assert.True(compared == count, $"only {compared} of {count} random programs loaded");
        Assert.True(faulted > compared / 50, $"only {faulted} of {compared} faulted: the generator is too tame");
    }

    private sealed record Outcome(ulong R0, Fault Fault, byte[] Frame, long Data, long DataEnd, long DataMeta, string Memory, string Maps,
        uint RedirectIfindex, string? RedirectMap, uint RedirectKey, ulong RedirectFlags)
    {
        public bool SameAs(Outcome other) => Difference(other) is null;

        public string? Difference(Outcome other)
        {
            if (R0 != other.R0) return "r0 differs";
            if (Fault != other.Fault) return "fault differs";
            if (!Frame.AsSpan().SequenceEqual(other.Frame)) return $"frame bytes differ at {Frame.AsSpan().CommonPrefixLength(other.Frame)}";
            if ((Data, DataEnd, DataMeta) != (other.Data, other.DataEnd, other.DataMeta)) return "context pointers differ";
            if (Memory != other.Memory) return "memory differs";
            if (Maps != other.Maps) return $"maps differ: {Maps} vs {other.Maps}";
            if ((RedirectIfindex, RedirectMap, RedirectKey, RedirectFlags) != (other.RedirectIfindex, other.RedirectMap, other.RedirectKey, other.RedirectFlags))
                return "redirect state differs";
            return null;
        }
    }

    /// <summary>The same starting state for both runs: a clear stack (programs may read it uninitialised) and clear maps.</summary>
    private static void Reset(BpfVm vm, BpfMap[] maps)
    {
        NativeMemory.Clear(vm.StackBase, BpfVm.StackBytes);
        foreach (var map in maps)
        {
            var region = map.ValueRegion;
            if (region.Length > 0)
                NativeMemory.Clear((void*)region.Start, (nuint)region.Length);
        }
    }

    private static string MapBytes(BpfMap[] maps) =>
        string.Concat(maps.Select(m => m.ValueRegion).Where(r => r.Length > 0)
            .Select(r => Convert.ToHexString(new ReadOnlySpan<byte>((void*)r.Start, (int)r.Length))));

    internal static byte[] RandomPacket(Random random)
    {
        if (random.Next(3) == 0)
        {
            var bytes = new byte[random.Next(0, 100)];
            random.NextBytes(bytes);
            return bytes;
        }
        return Packets.Udp4((ushort)random.Next(65536), payload: random.Next(0, 40));
    }

    internal static bpf_insn[] RandomProgram(Random random, OpcodeRow[] rows, int[] helpers, bool xdp, int length)
    {
        var insns = new List<bpf_insn>();
        if (xdp)
        {
            // Pointers worth using and misusing: packet start and end.
            insns.Add(new bpf_insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0));
            insns.Add(new bpf_insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 4, 0));
        }
        // Interesting values in the callee-saved registers, so ALU and jumps see more than zeros.
        for (var reg = 6; reg <= 9; reg++)
        {
            if (random.Next(2) == 0)
            {
                var value = IsaData.RandomValue(random, 64);
                insns.Add(new bpf_insn(BPF_LD | BPF_IMM | BPF_DW, reg, 0, 0, (int)value));
                insns.Add(new bpf_insn(0, 0, 0, 0, (int)(value >> 32)));
            }
        }
        while (insns.Count < length)
        {
            switch (random.Next(12))
            {
                case 0:
                    insns.Add(new bpf_insn(BPF_LD | BPF_IMM | BPF_DW, random.Next(1, 6), BPF_PSEUDO_MAP_IDX, 0, random.Next(3)));
                    insns.Add(default);
                    continue;
                case 1:
                case 2:
                    insns.Add(new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, helpers[random.Next(helpers.Length)]));
                    continue;
                case 3:
                    // bpf_loop with a small count and a callback somewhere near.
                    insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, random.Next(-1, 5)));
                    insns.Add(new bpf_insn(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, random.Next(-6, 10)));
                    insns.Add(default);
                    insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0));
                    insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, random.Next(8) == 0 ? 1 : 0));
                    insns.Add(new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, (int)bpf_func_id.BPF_FUNC_loop));
                    continue;
            }
            if (random.Next(14) == 0)
            {
                // A tail call into this program (slot 0), an earlier one (slot 1) or an empty slot.
                insns.Add(new bpf_insn(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_MAP_IDX, 0, 2));
                insns.Add(default);
                insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, random.Next(3)));
                insns.Add(new bpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, (int)bpf_func_id.BPF_FUNC_tail_call));
                continue;
            }
            var sample = IsaData.RandomInstruction(rows, random, -5, 7);
            var insn = sample[0];
            if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0 && !helpers.Contains(insn.imm))
                insn.imm = helpers[random.Next(helpers.Length)];
            if (Class(insn.code) is BPF_LDX or BPF_ST or BPF_STX)
                insn.off = (short)(random.Next(4) == 0 ? random.Next(-520, 0) : random.Next(-16, 80));
            if (Class(insn.code) == BPF_LD && Mode(insn.code) is BPF_ABS or BPF_IND)
                insn.imm = random.Next(-4, 70);
            insns.Add(insn);
            if (sample.Length == 2)
                insns.Add(sample[1]);
        }
        if (random.Next(2) == 0)
            insns.Add(new bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, random.Next(5)));
        insns.Add(new bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        return [.. insns];
    }
}

[CollectionDefinition(nameof(DifferentialFuzzTests), DisableParallelization = true)]
public sealed class DifferentialFuzzCollection;
