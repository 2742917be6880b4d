using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Jit;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Xdp;
using XdpGate.Testing.HotPath;
using XdpGate.Uapi;
using Xunit;

namespace XdpGate.Bpf.Tests.Jit;

public sealed class JitRunTests
{
    [Fact]
    public void A_million_jit_runs_allocate_nothing()
    {
        var (program, counters) = TestPrograms.ParseCount();
        using (counters)
        using (var vm = new BpfVm(processorId: 1))
        using (var frame = new PacketBuffer())
        {
            var jit = JitCompiler.Compile(program);
            frame.Reset(Packets.Udp4(80));
            var first = frame.Context;
            Assert.Equal(xdp_action.XDP_PASS, jit.RunXdp(vm, ref first));
            Assert.Equal(0, Allocations.InSteadyState(() =>
            {
                for (var i = 0; i < 1_000_000; i++)
                {
                    var context = frame.Context;
                    jit.RunXdp(vm, ref context);
                }
            }));
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
        using (var vm = new BpfVm(processorId: 0))
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

    [Theory]
    [InlineData("interp")]
    [InlineData("jit")]
    public void A_tail_call_inside_a_subprogram_returns_into_the_callers_program(string engine)
    {
        using var jmp = new ProgArrayMap(new MapDefinition("jmp", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1));
        var target = TestPrograms.Raw("""
            r0 = 5
            exit
            """);
        jmp.SetProgram(0, target);
        var caller = TestPrograms.Raw("""
            r6 = 100
            call sub
            r0 += r6
            exit
            sub:
            r6 = 7
            r2 = map_by_idx(0) ll
            r3 = 0
            call 12
            r0 = 1
            exit
            """, jmp);
        using var vm = new BpfVm();
        // The target's exit pops the caller's frame and restores its r6 (100), not the subprogram's (7).
        Assert.Equal(105UL, Engines.Run(engine, vm, caller, new byte[4]));
        Assert.Equal(FaultReason.None, vm.LastFault.Reason);
    }

    [Theory]
    [InlineData("interp")]
    [InlineData("jit")]
    public void Tail_calls_from_bpf_loop_callbacks_share_the_runs_tail_call_budget(string engine)
    {
        using var jmp = new ProgArrayMap(new MapDefinition("jmp", bpf_map_type.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1));
        jmp.SetProgram(0, TestPrograms.Raw("r0 = 0\nexit"));
        var program = TestPrograms.Raw("""
            r1 = 40
            r2 = func(callback) ll
            r3 = 0
            r4 = 0
            call 181
            exit
            callback:
            r2 = map_by_idx(0) ll
            r3 = 0
            call 12
            r0 = 1
            exit
            """, jmp);
        using var vm = new BpfVm();
        // 33 callbacks tail-call a program returning 0 (continue); the 34th call falls through and stops the loop.
        Assert.Equal(34UL, Engines.Run(engine, vm, program, new byte[4]));
        Assert.Equal(FaultReason.None, vm.LastFault.Reason);
    }
}

public sealed class JitLargeProgramTests
{
    [Fact]
    public void A_long_program_with_calls_compiles_and_agrees_with_the_interpreter()
    {
        // 8,000 slots: a main that calls a subprogram twice, each a long run of ALU work and forward branches.
        var text = new System.Text.StringBuilder("r6 = 1\ncall sub\nr6 += r0\ncall sub\nr0 += r6\nexit\nsub:\nr0 = 3\n");
        for (var i = 0; i < 4000; i++)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"r0 *= {i % 7 + 1}\nif r0 > {i * 13} goto +0\n");
        text.Append("exit\n");
        var program = TestPrograms.Raw(text.ToString());
        using var vm = new BpfVm();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var jit = JitCompiler.Compile(program);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"compiling took {started.Elapsed}");
        var expected = vm.Run(program, new byte[4]);
        Assert.Equal(expected, jit.Run(vm, new byte[4]));
    }
}
