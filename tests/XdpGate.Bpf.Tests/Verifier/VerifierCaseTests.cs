using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using Xunit;

namespace XdpGate.Bpf.Tests.Verifier;

/// <summary>
/// Every case of tests/data/verifier/{hostile,accepted,core}: our verifier's verdict at the default (privileged) and
/// strict levels, and the rule of each refusal, must be what the case says.
/// </summary>
public sealed class VerifierCaseTests
{
    public static TheoryData<string> Cases() => [.. VerifierCase.All()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_gets_its_verdict_at_both_levels(string name)
    {
        var testCase = VerifierCase.Load(name);
        var atDefault = Verify(testCase, VerificationLevel.Privileged);
        var atStrict = Verify(testCase, VerificationLevel.Strict);
        switch (testCase.Verdict)
        {
            case VerifierVerdict.Accepted:
                Assert.True(atDefault is null, $"{name}: refused at the default level: {atDefault?.Message}");
                Assert.True(atStrict is null, $"{name}: refused at the strict level: {atStrict?.Message}");
                break;
            case VerifierVerdict.RefusedDefault:
                Assert.True(atDefault is not null, $"{name}: accepted at the default level, expected {testCase.Rule}");
                Assert.True(atDefault.Rule.Name() == testCase.Rule, $"{name}: refused as {atDefault.Rule.Name()}, expected {testCase.Rule}: {atDefault.Message}");
                Assert.True(atStrict is not null, $"{name}: accepted at the strict level");
                break;
            case VerifierVerdict.RefusedStrict:
                Assert.True(atDefault is null, $"{name}: refused at the default level: {atDefault?.Message}");
                Assert.True(atStrict is not null, $"{name}: accepted at the strict level, expected {testCase.Rule}");
                Assert.True(atStrict.Rule.Name() == testCase.Rule, $"{name}: refused as {atStrict.Rule.Name()}, expected {testCase.Rule}: {atStrict.Message}");
                break;
        }
    }

    public static TheoryData<string> UnwrittenRegisterCases() =>
        [.. VerifierCase.All().Where(name => VerifierCase.Load(name).Rule == "uninitialized-register")];

    /// <summary>The register named is the one the kernel names: the first unwritten operand in the kernel's order of checks.</summary>
    [Theory]
    [MemberData(nameof(UnwrittenRegisterCases))]
    public void A_read_of_an_unwritten_register_is_refused_in_the_kernels_words(string name)
    {
        var testCase = VerifierCase.Load(name);
        var refusal = Verify(testCase, VerificationLevel.Privileged);
        Assert.True(refusal is not null, $"{name}: accepted");
        Assert.Contains(testCase.Kernel.LogSubstring!, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_case_rule_is_a_verifier_rule()
    {
        foreach (var name in VerifierCase.All())
        {
            if (VerifierCase.Load(name).Rule is { } rule)
                VerifierRules.Parse(rule);
        }
    }

    /// <summary>The refusal at <paramref name="level"/>, or null when the program is accepted.</summary>
    internal static VerifierException? Verify(VerifierCase testCase, VerificationLevel level)
    {
        var maps = testCase.CreateMaps(possibleCpus: 2);
        try
        {
            BpfProgram.Load(testCase.Program, new ProgramOptions { Name = "case", Type = testCase.Type, Maps = maps, Verification = level });
            return null;
        }
        catch (VerifierException e)
        {
            return e;
        }
        finally
        {
            foreach (var map in maps)
                map.Dispose();
        }
    }
}
