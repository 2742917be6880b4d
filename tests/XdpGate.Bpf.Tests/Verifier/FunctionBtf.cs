using System.Buffers.Binary;
using System.Text;
using XdpGate.Bpf.Isa;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// The least BTF the kernel wants before it takes a function pointer (lddw BPF_PSEUDO_FUNC, e.g. a bpf_loop
/// callback): one static FUNC per function of the program, all of one prototype <c>int (void)</c>, and a func_info
/// record for each. Static functions are verified in their caller's context, so the prototype says nothing the
/// verifier uses; hand-written cases have no C types to describe anyway.
/// </summary>
internal static class FunctionBtf
{
    private const int HeaderSize = 24;
    private const uint IntType = 1;
    private const uint ProtoType = 2;

    /// <summary>Whether the program takes a function's address, which the kernel refuses without func_info ("missing btf func_info").</summary>
    public static bool Needed(IReadOnlyList<bpf_insn> program) => program.Any(InstructionValidator.IsPseudoFunc);

    /// <summary>
    /// The start of each function, in order: instruction 0 and every target of a local call or function pointer.
    /// </summary>
    public static int[] FunctionStarts(IReadOnlyList<bpf_insn> program)
    {
        var starts = new SortedSet<int> { 0 };
        for (var pc = 0; pc < program.Count; pc++)
        {
            if (InstructionValidator.IsPseudoCall(program[pc]) || InstructionValidator.IsPseudoFunc(program[pc]))
                starts.Add(pc + program[pc].imm + 1);
        }
        return [.. starts];
    }

    /// <summary>The BTF blob with FUNCs f0..fN-1 of type ids 3..N+2, in the order of <paramref name="functionCount"/>.</summary>
    public static byte[] Build(int functionCount)
    {
        var strings = new StringBuilder("\0int\0");
        var types = new List<uint>
        {
            // [1] int: 4 bytes, signed, 32 bits.
            1, Info(BTF_KIND_INT, 0), 4, (1u << 24) | 32,
            // [2] int (void)
            0, Info(BTF_KIND_FUNC_PROTO, 0), IntType,
        };
        for (var i = 0; i < functionCount; i++)
        {
            types.AddRange([(uint)strings.Length, Info(BTF_KIND_FUNC, 0 /* BTF_FUNC_STATIC */), ProtoType]);
            strings.Append('f').Append(i).Append('\0');
        }
        var stringBytes = Encoding.ASCII.GetBytes(strings.ToString());
        var blob = new byte[HeaderSize + types.Count * 4 + stringBytes.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(blob, BTF_MAGIC);
        blob[2] = BTF_VERSION;
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), 0);                      // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(12), (uint)types.Count * 4); // type_len
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(16), (uint)types.Count * 4); // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(20), (uint)stringBytes.Length);
        for (var i = 0; i < types.Count; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(HeaderSize + i * 4), types[i]);
        stringBytes.CopyTo(blob, HeaderSize + types.Count * 4);
        return blob;
    }

    /// <summary>The type id of function <paramref name="index"/> in <see cref="Build"/>'s blob.</summary>
    public static uint FunctionType(int index) => ProtoType + 1 + (uint)index;

    private static uint Info(int kind, int vlen) => ((uint)kind << 24) | (uint)vlen;
}
