namespace XdpGate.Bpf.Verifier.Scalars;

/// <summary>
/// Moves, sign extension, truncation and byte swaps: the operations that change a value's width
/// (the kernel's coerce_reg_to_size, coerce_reg_to_size_sx, coerce_subreg_to_size_sx, scalar_byte_swap).
/// </summary>
public static partial class ScalarAlu
{
    /// <summary>BPF_END: byte swap (to big or little endian, or unconditional in ALU64) of <paramref name="bits"/> bits.</summary>
    /// <param name="swap">Whether bytes move: ALU64 bswap, or to_be on this little-endian host. Without it, 16 and 32 truncate and 64 is a no-op.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 16, 32 or 64.</exception>
    public static Scalar Endian(in Scalar dst, int bits, bool swap)
    {
        if (bits is not (16 or 32 or 64))
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "a byte swap is of 16, 32 or 64 bits");
        var r = dst;
        if (swap)
        {
            r.Bits = bits switch { 16 => r.Bits.Bswap16(), 32 => r.Bits.Bswap32(), _ => r.Bits.Bswap64() };
            // Swapping scrambles the order of values: only the bits survive.
            r.MarkUnbounded64();
            r.MarkUnbounded32();
        }
        if (bits < 64)
            Truncate(ref r, bits / 8);
        else if (swap)
            r.Sync();
        return r;
    }

    /// <summary>The value of a zero-extending load of <paramref name="bytes"/> bytes of unknown memory.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is not 1, 2, 4 or 8.</exception>
    public static Scalar Load(int bytes)
    {
        CheckSize(bytes, allowEight: true);
        var r = Scalar.Unknown;
        if (bytes < 8)
            Truncate(ref r, bytes);
        return r;
    }

    /// <summary>The value of a sign-extending (BPF_MEMSX) load of <paramref name="bytes"/> bytes of unknown memory.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is not 1, 2 or 4.</exception>
    public static Scalar LoadSigned(int bytes)
    {
        CheckSize(bytes, allowEight: false);
        var r = Scalar.Unknown;
        SignExtend64(ref r, bytes);
        return r;
    }

    /// <summary>The value of a load of <paramref name="bytes"/> bytes of unknown memory, sign-extending or not.</summary>
    public static Scalar Load(int bytes, bool signed) => signed ? LoadSigned(bytes) : Load(bytes);

    private static void CheckSize(int bytes, bool allowEight)
    {
        if (bytes is not (1 or 2 or 4) && !(allowEight && bytes == 8))
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, allowEight ? "a load is of 1, 2, 4 or 8 bytes" : "a sign-extending load is of 1, 2 or 4 bytes");
    }

    /// <summary>MOV and MOVSX: a copy of src, sign-extended from <paramref name="offset"/> bits when non-zero.</summary>
    private static Scalar Move(in Scalar src, bool is64, short offset)
    {
        if (offset != 0 && (offset is not (8 or 16 or 32) || (!is64 && offset == 32)))
            throw new ArgumentOutOfRangeException(nameof(offset), offset, is64 ? "movsx extends from 8, 16 or 32 bits" : "32-bit movsx extends from 8 or 16 bits");
        var r = src;
        if (is64)
        {
            if (offset != 0)
                SignExtend64(ref r, offset / 8);
            return r;
        }
        if (offset != 0)
            SignExtend32(ref r, offset / 8);
        ZeroExtend(ref r);
        r.Sync();
        return r;
    }

    /// <summary>coerce_reg_to_size: keep the low <paramref name="bytes"/> bytes (1, 2 or 4), the rest zero.</summary>
    private static void Truncate(ref Scalar r, int bytes)
    {
        r.Bits = r.Bits.Cast(bytes);
        var keep = (1UL << (bytes * 8)) - 1;
        // The low bytes of a range form a range only while its upper bytes do not change.
        if ((r.UMin & ~keep) == (r.UMax & ~keep))
            (r.UMin, r.UMax) = (r.UMin & keep, r.UMax & keep);
        else
            (r.UMin, r.UMax) = (0UL, keep);
        (r.SMin, r.SMax) = ((long)r.UMin, (long)r.UMax);
        if (bytes < 4)
            r.MarkUnbounded32();
        r.Sync();
    }

    /// <summary>coerce_reg_to_size_sx: the low <paramref name="bytes"/> bytes (1, 2 or 4) sign-extended to 64 bits.</summary>
    private static void SignExtend64(ref Scalar r, int bytes)
    {
        if (r.Bits.IsConst)
        {
            r.MarkKnown((ulong)SignExtend(r.Bits.Value, bytes));
            return;
        }
        var shift = bytes * 8;
        // Extension is monotonic over a signed range whose upper bits do not change and whose low part keeps one sign.
        if (ExtendRange((ulong)r.SMin, (ulong)r.SMax, bytes, ref r))
            return;
        var limit = 1L << (shift - 1);
        // Linux 6.18.44: a low word whose signed bounds already fit the extended width is unchanged by the extension,
        // so the result is that word sign-extended to 64 bits. Its signed bounds carry over; so do its unsigned ones,
        // since extension from 32 bits is monotonic on unsigned values too (below 2^31 kept, above lifted).
        if (r.S32Min >= -limit && r.S32Max < limit)
        {
            (r.SMin, r.SMax) = (r.S32Min, r.S32Max);
            (r.UMin, r.UMax) = ((ulong)(int)r.U32Min, (ulong)(int)r.U32Max);
            r.Bits = Tnum.Unknown;
            r.Sync();
            return;
        }
        (r.SMin, r.SMax) = (-limit, limit - 1);
        (r.S32Min, r.S32Max) = ((int)-limit, (int)(limit - 1));
        (r.UMin, r.UMax) = (0UL, ulong.MaxValue);
        (r.U32Min, r.U32Max) = (0u, uint.MaxValue);
        r.Bits = Tnum.Unknown;
    }

    /// <summary>
    /// The sign extension of <paramref name="bytes"/> bytes of every value in the signed range [<paramref name="min"/>,
    /// <paramref name="max"/>], when it is itself a range of one sign: the bits above the extended ones must not
    /// change across the range.
    /// </summary>
    private static bool ExtendRange(ulong min, ulong max, int bytes, ref Scalar r)
    {
        var shift = bytes * 8;
        if (min >> shift != max >> shift)
            return false;
        var a = SignExtend(min, bytes);
        var b = SignExtend(max, bytes);
        long low = Math.Min(a, b), high = Math.Max(a, b);
        if (low >= 0 != high >= 0)
            return false;
        (r.SMin, r.SMax) = (low, high);
        (r.S32Min, r.S32Max) = ((int)low, (int)high);
        (r.UMin, r.UMax) = ((ulong)low, (ulong)high);
        (r.U32Min, r.U32Max) = ((uint)low, (uint)high);
        r.Bits = Tnum.Range((ulong)low, (ulong)high);
        return true;
    }

    /// <summary>coerce_subreg_to_size_sx: the low <paramref name="bytes"/> bytes (1 or 2) sign-extended to 32 bits.</summary>
    private static void SignExtend32(ref Scalar r, int bytes)
    {
        if (r.Bits.IsConst)
        {
            var value = (uint)SignExtend(r.Bits.Value, bytes);
            r.Bits = Tnum.Const((ulong)(int)value);
            (r.S32Min, r.S32Max) = ((int)value, (int)value);
            (r.U32Min, r.U32Max) = (value, value);
            return;
        }
        var shift = bytes * 8;
        if ((uint)r.S32Max >> shift == (uint)r.S32Min >> shift)
        {
            var a = (int)SignExtend((uint)r.S32Min, bytes);
            var b = (int)SignExtend((uint)r.S32Max, bytes);
            int min = Math.Min(a, b), max = Math.Max(a, b);
            if (min >= 0 == max >= 0)
            {
                (r.S32Min, r.S32Max) = (min, max);
                (r.U32Min, r.U32Max) = ((uint)min, (uint)max);
                r.Bits = Tnum.Range((ulong)(long)min, (ulong)(long)max).Subreg;
                return;
            }
        }
        var limit = 1 << (shift - 1);
        (r.S32Min, r.S32Max) = (-limit, limit - 1);
        (r.U32Min, r.U32Max) = (0u, uint.MaxValue);
        r.Bits = Tnum.Unknown.Subreg;
    }

    private static long SignExtend(ulong value, int bytes) => bytes switch
    {
        1 => (sbyte)value,
        2 => (short)value,
        _ => (int)value,
    };
}
