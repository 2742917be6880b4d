using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace XdpGate.Bpf.Maps.Lpm;

/// <summary>
/// The key's data as big-endian 64-bit words (the first byte in the top bits, a short last word padded with zeros).
/// The lookup is generic over this so that the JIT compiles one specialised walk per key shape with no indirection.
/// </summary>
internal interface IKeyWords
{
    ulong this[int index] { get; }
}

/// <summary>Keys of 1..8 data bytes (IPv4, MAC addresses, ports): one word.</summary>
internal readonly unsafe struct OneWord : IKeyWords
{
    private readonly ulong word;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public OneWord(byte* data, int size) => word = size switch
    {
        4 => (ulong)BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(data)) << 32,
        8 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(data)),
        _ => KeyWordReader.Partial(data, size),
    };

    public ulong this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => word;
    }
}

/// <summary>Keys of 9..16 data bytes (IPv6): two words.</summary>
internal readonly unsafe struct TwoWords : IKeyWords
{
    private readonly ulong high;
    private readonly ulong low;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TwoWords(byte* data, int size)
    {
        high = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(data));
        low = size == 16
            ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(data + 8))
            : KeyWordReader.Partial(data + 8, size - 8);
    }

    public ulong this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => index == 0 ? high : low;
    }
}

/// <summary>Longer keys: words in a caller-provided buffer.</summary>
internal readonly unsafe struct ManyWords : IKeyWords
{
    private readonly ulong* words;

    public ManyWords(ulong* words) => this.words = words;

    public ulong this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => words[index];
    }
}

internal static unsafe class KeyWordReader
{
    public static int WordCount(int dataSize) => (dataSize + 7) / 8;

    /// <summary>Up to 8 bytes, big-endian, left-aligned; reads only the bytes given.</summary>
    public static ulong Partial(byte* data, int size)
    {
        ulong word = 0;
        for (var i = 0; i < size && i < 8; i++)
            word |= (ulong)data[i] << (56 - 8 * i);
        return word;
    }

    /// <summary>Fills <paramref name="words"/> from the key data, keeping only the first <paramref name="prefixLength"/> bits.</summary>
    public static void Fill(byte* data, int dataSize, ulong* words, int prefixLength)
    {
        var count = WordCount(dataSize);
        for (var w = 0; w < count; w++)
        {
            var size = Math.Min(8, dataSize - 8 * w);
            var word = size == 8 ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(data + 8 * w)) : Partial(data + 8 * w, size);
            var keep = Math.Clamp(prefixLength - 64 * w, 0, 64);
            words[w] = keep == 0 ? 0 : word & (ulong.MaxValue << (64 - keep));
        }
    }
}
