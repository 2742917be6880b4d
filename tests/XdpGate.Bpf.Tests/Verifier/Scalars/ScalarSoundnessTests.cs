using Xunit;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// Soundness, by random cases: abstract operands built around a few concrete values, every pair of concrete
/// operands run through the interpreter, and every concrete outcome must be one the abstract result allows.
/// Seed and case count: see <see cref="ScalarSamples"/>.
/// </summary>
public sealed class ScalarSoundnessTests : IDisposable
{
    private readonly ConcreteBpf concrete = new();

    public static TheoryData<string, byte, short, bool> AluOps()
    {
        var data = new TheoryData<string, byte, short, bool>();
        foreach (var is64 in new[] { true, false })
        {
            foreach (var (name, op) in new[] { ("add", BPF_ADD), ("sub", BPF_SUB), ("mul", BPF_MUL), ("div", BPF_DIV), ("or", BPF_OR), ("and", BPF_AND),
                ("lsh", BPF_LSH), ("rsh", BPF_RSH), ("neg", BPF_NEG), ("mod", BPF_MOD), ("xor", BPF_XOR), ("mov", BPF_MOV), ("arsh", BPF_ARSH) })
                data.Add(name, op, 0, is64);
            data.Add("sdiv", BPF_DIV, 1, is64);
            data.Add("smod", BPF_MOD, 1, is64);
            data.Add("movsx8", BPF_MOV, 8, is64);
            data.Add("movsx16", BPF_MOV, 16, is64);
        }
        data.Add("movsx32", BPF_MOV, 32, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(AluOps))]
    public void Every_concrete_result_of_an_alu_op_is_in_the_abstract_result(string name, byte op, short offset, bool is64)
    {
        var random = new Random(HashCode.Combine(ScalarSamples.Seed, op, offset, is64));
        var code = (byte)((is64 ? BPF_ALU64 : BPF_ALU) | op | (op == BPF_NEG ? BPF_K : BPF_X));
        for (var i = 0; i < ScalarSamples.Cases; i++)
        {
            var (dst, dstMembers) = ScalarSamples.Make(random);
            // Shifts are precise only by a small constant amount: make that common.
            var (src, srcMembers) = op is BPF_LSH or BPF_RSH or BPF_ARSH && random.Next(2) == 0
                ? ConstScalar((ulong)random.Next(is64 ? 64 : 32))
                : ScalarSamples.Make(random);
            var result = ScalarAlu.Apply(op, dst, src, is64, offset);
            foreach (var d in ScalarSamples.Concretes(random, dst, dstMembers))
            {
                foreach (var s in ScalarSamples.Concretes(random, src, srcMembers))
                {
                    var value = concrete.Alu(code, offset, 0, d, s);
                    if (!result.Contains(value))
                        Assert.Fail($"seed {ScalarSamples.Seed}, {name}{(is64 ? "" : "32")}: 0x{d:x} op 0x{s:x} = 0x{value:x} is not in {ScalarSamples.Describe(result)}\n" +
                                    $"dst {ScalarSamples.Describe(dst)}\nsrc {ScalarSamples.Describe(src)}");
                }
            }
        }
    }

    [Theory]
    [InlineData(16, false, false)]
    [InlineData(32, false, false)]
    [InlineData(64, false, false)]
    [InlineData(16, true, false)]
    [InlineData(32, true, false)]
    [InlineData(64, true, false)]
    [InlineData(16, true, true)]
    [InlineData(32, true, true)]
    [InlineData(64, true, true)]
    public void Every_concrete_byte_swap_is_in_the_abstract_result(int bits, bool swap, bool alu64)
    {
        var random = new Random(HashCode.Combine(ScalarSamples.Seed, bits, swap, alu64));
        // On this little-endian host to_le only truncates and to_be swaps; ALU64 always swaps.
        var code = (byte)((alu64 ? BPF_ALU64 : BPF_ALU) | BPF_END | (swap && !alu64 ? BPF_TO_BE : BPF_TO_LE));
        for (var i = 0; i < ScalarSamples.Cases; i++)
        {
            var (dst, members) = ScalarSamples.Make(random);
            var result = ScalarAlu.Endian(dst, bits, swap);
            foreach (var d in ScalarSamples.Concretes(random, dst, members))
            {
                var value = concrete.Alu(code, 0, bits, d, 0);
                if (!result.Contains(value))
                    Assert.Fail($"seed {ScalarSamples.Seed}: swap{bits} of 0x{d:x} = 0x{value:x} is not in {ScalarSamples.Describe(result)} (from {ScalarSamples.Describe(dst)})");
            }
        }
    }

    [Theory]
    [InlineData(BPF_B, false)]
    [InlineData(BPF_H, false)]
    [InlineData(BPF_W, false)]
    [InlineData(BPF_DW, false)]
    [InlineData(BPF_B, true)]
    [InlineData(BPF_H, true)]
    [InlineData(BPF_W, true)]
    public void Every_loaded_value_is_in_the_abstract_load(byte size, bool signed)
    {
        var random = new Random(HashCode.Combine(ScalarSamples.Seed, size, signed));
        var bytes = SizeInBytes(size);
        var loaded = signed ? ScalarAlu.LoadSigned(bytes) : ScalarAlu.Load(bytes);
        var code = (byte)(BPF_LDX | (signed ? BPF_MEMSX : BPF_MEM) | size);
        for (var i = 0; i < ScalarSamples.Cases * 4; i++)
        {
            var memory = ScalarSamples.Value(random);
            var value = concrete.Load(code, memory);
            if (!loaded.Contains(value))
                Assert.Fail($"seed {ScalarSamples.Seed}: loading 0x{memory:x} gives 0x{value:x}, not in {ScalarSamples.Describe(loaded)}");
        }
    }

    public static TheoryData<string, byte, bool> JumpOps()
    {
        var data = new TheoryData<string, byte, bool>();
        foreach (var is32 in new[] { false, true })
        {
            foreach (var (name, op) in new[] { ("jeq", BPF_JEQ), ("jgt", BPF_JGT), ("jge", BPF_JGE), ("jset", BPF_JSET), ("jne", BPF_JNE), ("jsgt", BPF_JSGT),
                ("jsge", BPF_JSGE), ("jlt", BPF_JLT), ("jle", BPF_JLE), ("jslt", BPF_JSLT), ("jsle", BPF_JSLE) })
                data.Add(name, op, is32);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(JumpOps))]
    public void Branch_prediction_agrees_with_every_concrete_pair_and_refinement_keeps_every_pair_of_its_side(string name, byte op, bool is32)
    {
        var random = new Random(HashCode.Combine(ScalarSamples.Seed, op, is32));
        var code = (byte)((is32 ? BPF_JMP32 : BPF_JMP) | op | BPF_X);
        int decided = 0, dead = 0;
        for (var i = 0; i < ScalarSamples.Cases; i++)
        {
            var (dst, dstMembers) = ScalarSamples.Make(random);
            // Comparisons against constants are the common case and the one JNE and JSET learn from.
            var (src, srcMembers) = random.Next(3) == 0 ? ConstScalar(dstMembers[random.Next(dstMembers.Length)] + (ulong)random.Next(-1, 2)) : ScalarSamples.Make(random);
            var predicted = ScalarBranch.IsTaken(op, dst, src, is32);
            if (predicted.HasValue)
                decided++;
            var (takenDst, takenSrc, notDst, notSrc) = (dst, src, dst, src);
            var takenLive = ScalarBranch.Refine(op, ref takenDst, ref takenSrc, is32, taken: true);
            var notLive = ScalarBranch.Refine(op, ref notDst, ref notSrc, is32, taken: false);
            if (!takenLive || !notLive)
                dead++;
            foreach (var d in ScalarSamples.Concretes(random, dst, dstMembers))
            {
                foreach (var s in ScalarSamples.Concretes(random, src, srcMembers))
                {
                    var jumps = concrete.Jumps(code, d, s);
                    var (live, refinedDst, refinedSrc) = jumps ? (takenLive, takenDst, takenSrc) : (notLive, notDst, notSrc);
                    if ((predicted is null || predicted == jumps) && live && refinedDst.Contains(d) && refinedSrc.Contains(s))
                        continue;
                    Assert.Fail($"seed {ScalarSamples.Seed}, {name}{(is32 ? "32" : "")} 0x{d:x}, 0x{s:x} {(jumps ? "jumps" : "falls through")}; " +
                                $"predicted {predicted?.ToString() ?? "either"}, that side {(live ? "live" : "dead")}\n" +
                                $"dst {ScalarSamples.Describe(dst)}\nsrc {ScalarSamples.Describe(src)}\n" +
                                $"refined dst {ScalarSamples.Describe(refinedDst)}\nrefined src {ScalarSamples.Describe(refinedSrc)}");
                }
            }
        }
        // The generator must reach both the decided and the open cases, or the test proves little.
        Assert.InRange(decided, 1, ScalarSamples.Cases - 1);
        Assert.True(dead > 0, "no side was ever found dead");
    }

    public void Dispose() => concrete.Dispose();

    private static (Scalar, ulong[]) ConstScalar(ulong value) => (Scalar.Const(value), [value]);
}
