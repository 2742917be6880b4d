using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier;
using Xunit;

namespace XdpGate.Bpf.Tests.Conformance;

/// <summary>Runs every case in tests/data/conformance on every engine; each file name says what the case proves.</summary>
public sealed class ConformanceTests
{
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "data", "conformance");

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*.data").Order(StringComparer.Ordinal))
        {
            foreach (var engine in Engines.Names)
                data.Add(Path.GetFileNameWithoutExtension(file), engine);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_gives_the_expected_result(string name, string engine)
    {
        var path = Path.Combine(Directory, name + ".data");
        var testCase = ConformanceCase.Parse(name, File.ReadAllText(path));
        var (result, error) = Run(testCase, engine);

        if (testCase.ExpectedError is { } expected)
        {
            Assert.True(error is not null, $"{name}: expected an error containing '{expected}', got r0 = 0x{result:x}");
            Assert.Contains(expected, error, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(error is null, $"{name}: unexpected error: {error}");
            Assert.Equal(testCase.ExpectedResult!.Value, result);
        }
    }

    [Fact]
    public void The_suite_has_cases() => Assert.True(Cases().Count() >= 100, "the conformance suite has shrunk below 100 cases");

    private static (ulong Result, string? Error) Run(ConformanceCase testCase, string engine)
    {
        if (testCase.AssemblyError is { } assemblyError)
            return (0, assemblyError);
        var maps = testCase.Maps.Select(definition => MapFactory.Create(definition, possibleCpus: 2)).ToArray();
        try
        {
            BpfProgram program;
            try
            {
                program = BpfProgram.Load(testCase.Program, new ProgramOptions { Name = testCase.Name, Maps = maps, Verification = VerificationLevel.None });
            }
            catch (BpfLoadException e)
            {
                return (0, e.Message);
            }
            foreach (var (mapName, slot) in testCase.SelfSlots)
            {
                var programs = (ProgArrayMap)maps.Single(m => m.Name == mapName);
                Assert.Equal(0, programs.SetProgram(slot, program));
            }
            using var vm = new BpfVm(processorId: 1);
            var memory = testCase.Memory.ToArray();
            var result = Engines.Run(engine, vm, program, memory);
            return vm.LastFault.Reason == FaultReason.None ? (result, null) : (result, vm.LastFault.ToString());
        }
        finally
        {
            foreach (var map in maps)
                map.Dispose();
        }
    }
}
