using XdpGate.Bpf.Isa;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using Xunit;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// <see cref="ProgramOptions.GlobalFunctions"/> on assembled programs: a subprogram declared global is verified on its
/// own and its callers learn only a scalar; without the declaration (programs without BTF) it stays static; a
/// declaration that does not fit the program is refused naming it.
/// </summary>
public sealed class GlobalFunctionOptionsTests
{
    // The subprogram at 6 returns r1 & 3, so with r1 = 7 the caller knows r0 is 3 only when verifying it inline; otherwise
    // the branch reading r5 (unreadable after any call) is explored.
    private const string CallerOfMask = """
        r1 = 7
        call pc+4
        if r0 == 3 goto +2
        r0 = r5
        exit
        exit
        r0 = r1
        r0 &= 3
        exit
        """;

    private static BpfProgram Load(string asm, params GlobalFunction[] globals) =>
        BpfProgram.Load(Assembler.Assemble(asm), new ProgramOptions
        {
            Name = "test", Type = bpf_prog_type.BPF_PROG_TYPE_XDP, GlobalFunctions = globals,
        });

    private static GlobalFunction Mask(int at = 6) => new(at, "mask", [new GlobalFunctionArg(GlobalFunctionArgKind.Scalar)]);

    [Fact]
    public void A_static_subprogram_is_verified_inline_so_its_caller_knows_its_return_value()
    {
        Assert.Equal(VerificationLevel.Privileged, Load(CallerOfMask).Verification.Level);
    }

    [Fact]
    public void The_caller_of_a_global_function_knows_only_that_it_returns_a_scalar()
    {
        var e = Assert.Throws<VerifierException>(() => Load(CallerOfMask, Mask()));

        Assert.Equal(VerifierRule.UninitializedRegister, e.Rule);
        Assert.Equal(3, e.Pc);
    }

    [Fact]
    public void The_verdict_kept_for_a_program_is_not_reused_once_one_of_its_functions_is_global()
    {
        Load(CallerOfMask);

        Assert.Throws<VerifierException>(() => Load(CallerOfMask, Mask()));
    }

    [Fact]
    public void A_global_function_returning_a_pointer_is_refused()
    {
        const string asm = """
            call pc+2
            r0 = 0
            exit
            r0 = r10
            exit
            """;

        var e = Assert.Throws<VerifierException>(() => Load(asm, new GlobalFunction(3, "frame", [])));

        Assert.Equal(VerifierRule.InvalidReturnValue, e.Rule);
        Assert.Contains("in global function frame() func#1, verified on its own", e.Message, StringComparison.Ordinal);
        Assert.Contains("At subprogram exit the register R0 is not a scalar value (fp)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_global_function_that_no_explored_path_calls_is_not_verified()
    {
        // The call is behind a branch the verifier decides (r1 = 0), as the kernel verifies only global functions it saw called.
        const string asm = """
            r1 = 0
            if r1 == 0 goto +1
            call pc+2
            r0 = 0
            exit
            r0 = r10
            exit
            """;

        Assert.Equal(VerificationLevel.Privileged, Load(asm, new GlobalFunction(5, "never", [])).Verification.Level);
    }

    public static TheoryData<string, GlobalFunction[], string> BadDeclarations => new()
    {
        { "the entry", [Mask(0)], "global function 'mask' at instruction 0: no call or function address leads there" },
        { "not a call target", [Mask(5)], "global function 'mask' at instruction 5: no call or function address leads there" },
        { "twice", [Mask(), Mask()], "global function 'mask' at instruction 6: a second global function at the same instruction" },
        {
            "six parameters", [new GlobalFunction(6, "wide", [.. Enumerable.Repeat(new GlobalFunctionArg(GlobalFunctionArgKind.Scalar), 6)])],
            "global function 'wide' at instruction 6: 6 parameters, but arguments travel in r1-r5 only"
        },
        {
            "memory of a negative size", [new GlobalFunction(6, "negative", [new GlobalFunctionArg(GlobalFunctionArgKind.Memory, -1)])],
            "global function 'negative' at instruction 6: parameter GlobalFunctionArg { Kind = Memory, MemorySize = -1 } is neither"
        },
        {
            "a sized context", [new GlobalFunction(6, "ctx", [new GlobalFunctionArg(GlobalFunctionArgKind.Context, 4)])],
            "global function 'ctx' at instruction 6: parameter GlobalFunctionArg { Kind = Context, MemorySize = 4 } is neither"
        },
    };

    [Theory]
    [MemberData(nameof(BadDeclarations))]
    public void A_global_function_declaration_that_does_not_fit_the_program_is_refused_naming_it(string what, GlobalFunction[] globals, string message)
    {
        var e = Assert.Throws<BpfLoadException>(() => Load(CallerOfMask, globals));

        Assert.IsNotType<VerifierException>(e);
        Assert.True(e.Message.StartsWith(message, StringComparison.Ordinal), $"{what}: {e.Message}");
    }
}
