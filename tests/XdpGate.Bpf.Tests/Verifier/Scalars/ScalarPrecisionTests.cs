using Xunit;
using XdpGate.Bpf.Verifier.Scalars;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Tests.Verifier.Scalars;

/// <summary>
/// The cases the kernel is precise about, each expected string as the kernel 6.18 verifier log printed it for the
/// same instructions (log_level 2), so these read as the kernel's own findings.
/// </summary>
public sealed class ScalarPrecisionTests
{
    private static readonly Scalar Byte = Apply(BPF_AND, Scalar.Unknown, 0xff);

    [Theory]
    [InlineData(BPF_ADD, 3UL, 4UL, true, 7UL)]
    [InlineData(BPF_SUB, 3UL, 4UL, true, 0xffff_ffff_ffff_ffffUL)]
    [InlineData(BPF_SUB, 3UL, 4UL, false, 0xffff_ffffUL)]
    [InlineData(BPF_MUL, 0x1_0000_0001UL, 3UL, true, 0x3_0000_0003UL)]
    [InlineData(BPF_ADD, 0xffff_ffffUL, 1UL, false, 0UL)]
    [InlineData(BPF_XOR, 0xf0UL, 0xffUL, true, 0x0fUL)]
    [InlineData(BPF_LSH, 1UL, 63UL, true, 0x8000_0000_0000_0000UL)]
    [InlineData(BPF_ARSH, 0x8000_0000UL, 31UL, false, 0xffff_ffffUL)]
    [InlineData(BPF_RSH, 0xffff_ffff_ffff_ffffUL, 60UL, true, 0xfUL)]
    public void Operations_on_constants_fold_to_the_exact_constant(byte op, ulong dst, ulong src, bool is64, ulong expected)
    {
        var result = ScalarAlu.Apply(op, Scalar.Const(dst), Scalar.Const(src), is64);
        Assert.True(result.IsConst, result.ToString());
        Assert.Equal(expected, result.ConstValue);
    }

    [Fact]
    public void Division_of_constants_is_unknown_as_in_the_kernel() =>
        Assert.Equal("scalar()", ScalarAlu.Apply(BPF_DIV, Scalar.Const(10), Scalar.Const(3), is64: true).ToString());

    [Fact]
    public void And_with_0xff_bounds_the_value_to_0_to_255() =>
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))", Byte.ToString());

    [Fact]
    public void A_byte_load_shifted_left_by_2_is_0_to_1020_in_steps_of_4()
    {
        var shifted = Apply(BPF_LSH, ScalarAlu.Load(1), 2);
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=1020,var_off=(0x0; 0x3fc))", shifted.ToString());
    }

    [Fact]
    public void A_32_bit_add_zero_extends_into_the_upper_half() =>
        Assert.Equal("scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))", Apply(BPF_ADD, Scalar.Unknown, 1, is64: false).ToString());

    [Fact]
    public void Negating_a_byte_gives_minus_255_to_0() =>
        Assert.Equal("scalar(smin=smin32=-255,smax=smax32=0)", ScalarAlu.Apply(BPF_NEG, Byte, Byte, is64: true).ToString());

    [Fact]
    public void A_big_endian_swap_of_a_byte_moves_its_bits_to_the_high_byte() =>
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))", ScalarAlu.Endian(Byte, 16, swap: true).ToString());

    [Fact]
    public void A_sign_extending_byte_load_is_minus_128_to_127() =>
        Assert.Equal("scalar(smin=smin32=-128,smax=smax32=127)", ScalarAlu.LoadSigned(1).ToString());

    [Fact]
    public void Sign_extending_a_value_whose_low_word_is_zero_gives_zero()
    {
        // r6 <<= 58; r8 = (s16)r6: the upper bits are unknown, the low word is 0 (Linux 6.18.44-fc-v1300).
        var shifted = Apply(BPF_LSH, Scalar.Unknown, 58);
        Assert.Equal("0", ScalarAlu.Apply(BPF_MOV, shifted, shifted, is64: true, offset: 16).ToString());
    }

    [Fact]
    public void Sign_extending_a_low_word_that_already_fits_keeps_its_bounds()
    {
        // r6 <<= 32; r6 |= r7 & 127; r8 = (s8)r6, and w6 = (w6 & 3) - 2; r8 = (s16)r6, as the kernel printed them.
        var low = Apply(BPF_OR, Apply(BPF_LSH, Scalar.Unknown, 32), 0);
        var high = ScalarAlu.Apply(BPF_OR, Apply(BPF_LSH, Scalar.Unknown, 32), Apply(BPF_AND, Scalar.Unknown, 127), is64: true);
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))", ScalarAlu.Apply(BPF_MOV, high, high, is64: true, offset: 8).ToString());
        var small = Apply(BPF_SUB, Apply(BPF_AND, Scalar.Unknown, 3, is64: false), 2, is64: false);
        Assert.Equal("scalar(smin=smin32=-2,smax=smax32=1)", ScalarAlu.Apply(BPF_MOV, small, small, is64: true, offset: 16).ToString());
        Assert.Equal("0", ScalarAlu.Apply(BPF_MOV, low, low, is64: true, offset: 8).ToString());
    }

    [Fact]
    public void Sign_extending_a_low_word_that_does_not_fit_gives_the_whole_range_of_the_width()
    {
        // r6 <<= 32; r6 |= (r7 & 127) | 256; r8 = (s8)r6: the kernel does not use the low word's bounds here.
        var word = ScalarAlu.Apply(BPF_OR, Apply(BPF_LSH, Scalar.Unknown, 32), Apply(BPF_OR, Apply(BPF_AND, Scalar.Unknown, 127), 256), is64: true);
        Assert.Equal("scalar(smin=smin32=-128,smax=smax32=127)", ScalarAlu.Apply(BPF_MOV, word, word, is64: true, offset: 8).ToString());
    }

    [Fact]
    public void Falling_through_if_greater_than_10_leaves_at_most_10()
    {
        var (dst, src) = (Byte, Scalar.Const(10));
        Assert.True(ScalarBranch.Refine(BPF_JGT, ref dst, ref src, is32: false, taken: false));
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))", dst.ToString());
    }

    [Fact]
    public void A_jump_that_cannot_be_taken_has_a_dead_taken_side()
    {
        var (dst, src) = (Byte, Scalar.Const(255));
        Assert.False(ScalarBranch.IsTaken(BPF_JGT, dst, src, is32: false));
        Assert.False(ScalarBranch.Refine(BPF_JGT, ref dst, ref src, is32: false, taken: true));
    }

    [Fact]
    public void Jset_on_a_known_set_bit_is_always_taken_and_on_a_known_clear_bit_never()
    {
        var withBit = Apply(BPF_OR, Byte, 4);
        Assert.True(ScalarBranch.IsTaken(BPF_JSET, withBit, Scalar.Const(4), is32: true));
        Assert.False(ScalarBranch.IsTaken(BPF_JSET, Byte, Scalar.Const(0x100), is32: false));
        Assert.Null(ScalarBranch.IsTaken(BPF_JSET, Byte, Scalar.Const(4), is32: false));
    }

    [Fact]
    public void Jset_on_one_bit_sets_it_when_taken_and_clears_it_otherwise()
    {
        var (upTo100, hundred) = (Byte, Scalar.Const(100));
        ScalarBranch.Refine(BPF_JGT, ref upTo100, ref hundred, is32: false, taken: false);
        var (taken, bit) = (upTo100, Scalar.Const(0x10));
        Assert.True(ScalarBranch.Refine(BPF_JSET, ref taken, ref bit, is32: false, taken: true));
        Assert.Equal("scalar(smin=umin=smin32=umin32=16,smax=umax=smax32=umax32=100,var_off=(0x10; 0x6f))", taken.ToString());
        var notTaken = upTo100;
        Assert.True(ScalarBranch.Refine(BPF_JSET, ref notTaken, ref bit, is32: false, taken: false));
        // The kernel rebuilds the bounds from the bits here, so 100 becomes 111.
        Assert.Equal("scalar(smin=smin32=0,smax=umax=smax32=umax32=111,var_off=(0x0; 0x6f))", notTaken.ToString());
    }

    [Fact]
    public void Bounds_that_meet_the_known_bits_in_one_value_make_that_constant()
    {
        var value = Apply(BPF_AND, Scalar.Unknown, 0x104);
        var (five, top) = (Scalar.Const(5), Scalar.Const(0x103));
        Assert.True(ScalarBranch.Refine(BPF_JLT, ref value, ref five, is32: false, taken: false));
        Assert.True(ScalarBranch.Refine(BPF_JGT, ref value, ref top, is32: false, taken: false));
        Assert.Equal("256", value.ToString());
    }

    [Fact]
    public void A_64_bit_comparison_of_a_zero_extended_value_reaches_the_subregister_bounds()
    {
        var (value, limit) = (ScalarAlu.Apply(BPF_MOV, Scalar.Unknown, Scalar.Unknown, is64: false), Scalar.Const(0x7fff_fffe));
        Assert.True(ScalarBranch.Refine(BPF_JLT, ref limit, ref value, is32: false, taken: true));
        Assert.Equal(0x7fff_ffffUL, value.UMin);
        Assert.Equal(0x7fff_ffffU, value.U32Min);
    }

    [Theory]
    [InlineData(1020UL, "1020")]
    [InlineData(0xffff_ffff_ffff_fda8UL, "-600")]
    [InlineData(0x8000UL, "0x8000")]
    [InlineData(0xffff_ffff_ffff_8000UL, "-32768")]
    [InlineData(0xffff_ffff_ffff_7fffUL, "0xffffffffffff7fff")]
    [InlineData(0xffff_ffffUL, "0xffffffff")]
    public void Constants_print_as_the_kernel_prints_them(ulong value, string expected) =>
        Assert.Equal(expected, Scalar.Const(value).ToString());

    [Fact]
    public void Unsigned_bounds_print_in_decimal_up_to_65535_and_signed_ones_up_to_32767()
    {
        var s = Apply(BPF_OR, Scalar.Unknown, 0xdd56);
        Assert.Equal("scalar(smin=0x800000000000dd56,umin=umin32=56662,smin32=0x8000dd56,var_off=(0xdd56; 0xffffffffffff22a9))", s.ToString());
    }

    private static Scalar Apply(byte op, in Scalar dst, ulong constant, bool is64 = true) => ScalarAlu.Apply(op, dst, Scalar.Const(constant), is64);
}
