using Xunit;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Xdp;

namespace XdpGate.Bpf.Tests.Jit;

public sealed class JitRunTests
{
    [Fact]
    public void A_million_jit_runs_allocate_nothing()
    {
        var (program, counters) = TestPrograms.ParseCount();
        using (counters)
        using (var vm = new BpfVm(cpu: 1))
        using (var frame = new PacketBuffer())
        {
            var jit = JitCompiler.Compile(program);
            frame.Reset(Packets.Udp4(80));
            var context = frame.Context;
            Assert.Equal(xdp_action.XDP_PASS, jit.RunXdp(vm, ref context));
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1_000_000; i++)
            {
                context = frame.Context;
                jit.RunXdp(vm, ref context);
            }
            Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
            Assert.Equal(FaultReason.None, vm.LastFault.Reason);
        }
    }

    [Fact]
    public void Compiling_twice_gives_the_cached_code()
    {
        var (program, counters) = TestPrograms.ParseCount();
        using (counters)
            Assert.Same(JitCompiler.Compile(program), JitCompiler.Compile(program));
    }

    [Fact]
    public void The_jit_and_the_interpreter_count_the_same_verdicts()
    {
        var (program, counters) = TestPrograms.ParseCount();
        using (counters)
        using (var vm = new BpfVm(cpu: 0))
        using (var frame = new PacketBuffer())
        {
            var jit = JitCompiler.Compile(program);
            foreach (var port in new ushort[] { 80, 53, 8080 })
            {
                frame.Reset(Packets.Udp4(port));
                var viaInterpreter = vm.RunXdp(program, ref frame.Context);
                frame.Reset(Packets.Udp4(port));
                Assert.Equal(viaInterpreter, jit.RunXdp(vm, ref frame.Context));
            }
            frame.Reset([1, 2, 3]);
            var shortVerdict = vm.RunXdp(program, ref frame.Context);
            frame.Reset([1, 2, 3]);
            Assert.Equal(shortVerdict, jit.RunXdp(vm, ref frame.Context));
        }
    }
}
