using XdpGate.Bpf.Elf;
using Xunit;
using static XdpGate.Bpf.Elf.BtfKinds;

namespace XdpGate.Bpf.Tests.Elf;

/// <summary>The .BTF handed to the kernel and the func_info of linked programs, on the C corpus.</summary>
public sealed class KernelBtfTests
{
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "data", "programs");

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*.o").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void Every_datasec_has_its_sections_size_and_variables_in_order_without_overlap(string name)
    {
        var obj = BpfObject.Open(Path.Combine(Directory, name + ".o"));
        var btf = Btf.Parse(obj.KernelBtf());
        foreach (var datasec in btf.Types.Where(t => t.Kind == BTF_KIND_DATASEC))
        {
            Assert.True(datasec.SizeOrType > 0, $"{datasec} has size 0");
            var end = 0u;
            foreach (var info in datasec.Vars)
            {
                Assert.True(info.Offset >= end, $"{datasec}: {btf.NameOf(info.Type)} at {info.Offset} overlaps the variable before (ends at {end})");
                end = info.Offset + info.Size;
            }
            Assert.True(end <= datasec.SizeOrType, $"{datasec}: variables end at {end}, past its {datasec.SizeOrType} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void Each_linked_function_has_a_func_info_record_naming_its_func(string name)
    {
        var obj = BpfObject.Open(Path.Combine(Directory, name + ".o"));
        var btf = Btf.Parse(obj.KernelBtf());
        foreach (var program in obj.Programs)
        {
            Assert.Equal(program.Functions.Count, program.FuncInfo.Count);
            foreach (var (function, record) in program.Functions.Zip(program.FuncInfo))
            {
                Assert.Equal(function.InstructionIndex, record.InstructionIndex);
                Assert.Equal(BTF_KIND_FUNC, btf.Types[(int)record.TypeId].Kind);
                Assert.Equal(function.Name, btf.Types[(int)record.TypeId].Name);
            }
        }
    }

    [Fact]
    public void The_bpf_loop_program_links_its_callback_and_global_subprograms()
    {
        var program = BpfObject.Open(Path.Combine(Directory, "xdp_payload_hash.o")).Programs[0];
        Assert.True(program.FuncInfo.Count > 1);
    }
}
