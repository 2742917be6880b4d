using System.Buffers.Binary;
using System.Reflection;
using System.Reflection.Emit;
using XdpGate.Bpf.Execution;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Program;
using static XdpGate.Bpf.Isa.Opcodes;

namespace XdpGate.Bpf.Jit;

/// <summary>Emits the IL of one program; see <see cref="JitCompiler"/> for the design.</summary>
internal sealed unsafe partial class Emitter
{
    private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;

    private static readonly FieldInfo StackBase = Field(typeof(BpfVm), nameof(BpfVm.StackBase));
    private static readonly FieldInfo CallFrames = Field(typeof(BpfVm), nameof(BpfVm.CallFrames));
    private static readonly FieldInfo Running = Field(typeof(BpfVm), nameof(BpfVm.Running));
    private static readonly FieldInfo PendingFault = Field(typeof(BpfVm), nameof(BpfVm.PendingFault));
    private static readonly FieldInfo CurrentPc = Field(typeof(BpfVm), nameof(BpfVm.CurrentPc));
    private static readonly MethodInfo RaiseFault = Method(typeof(BpfVm), nameof(BpfVm.RaiseFault));
    private static readonly FieldInfo FrameProgram = Field(typeof(BpfVm.CallFrame), nameof(BpfVm.CallFrame.Program));
    private static readonly FieldInfo FrameReturnPc = Field(typeof(BpfVm.CallFrame), nameof(BpfVm.CallFrame.ReturnPc));
    private static readonly FieldInfo[] FrameSaved =
    [
        Field(typeof(BpfVm.CallFrame), nameof(BpfVm.CallFrame.R6)), Field(typeof(BpfVm.CallFrame), nameof(BpfVm.CallFrame.R7)),
        Field(typeof(BpfVm.CallFrame), nameof(BpfVm.CallFrame.R8)), Field(typeof(BpfVm.CallFrame), nameof(BpfVm.CallFrame.R9)),
    ];

    // The runtime both engines share, taken as typed method groups: the compiler checks each signature.
    private static readonly MethodInfo Readable = Of((Func<BpfVm, ulong, int, int, bool>)BpfRuntime.Readable);
    private static readonly MethodInfo Writable = Of((Func<BpfVm, ulong, int, int, bool>)BpfRuntime.Writable);
    private static readonly MethodInfo AtomicTarget = Of((Func<BpfVm, ulong, int, int, bool>)BpfRuntime.AtomicTarget);
    private static readonly MethodInfo LoadWord = Of((LoadFunction)BpfRuntime.LoadWord);
    private static readonly MethodInfo LoadPacket = Of((LoadPacketFunction)BpfRuntime.LoadPacket);
    private static readonly MethodInfo TailCall = Of((Func<BpfVm, ulong, ulong, BpfProgram?>)BpfRuntime.TailCall);
    private static readonly MethodInfo BackwardJump = Of((Func<BpfVm, int, bool>)BpfRuntime.BackwardJump);
    private static readonly MethodInfo Div64 = Of((Func<ulong, ulong, int, ulong>)BpfRuntime.Div<ulong, long>);
    private static readonly MethodInfo Mod64 = Of((Func<ulong, ulong, int, ulong>)BpfRuntime.Mod<ulong, long>);
    private static readonly MethodInfo Div32 = Of((Func<uint, uint, int, ulong>)BpfRuntime.Div<uint, int>);
    private static readonly MethodInfo Mod32 = Of((Func<uint, uint, int, ulong>)BpfRuntime.Mod<uint, int>);
    private static readonly MethodInfo Xor32 = Of((XorFunction<int>)BpfRuntime.Xor);
    private static readonly MethodInfo Xor64 = Of((XorFunction<long>)BpfRuntime.Xor);
    private static readonly MethodInfo Loop = Of((LoopFunction)JitRuntime.Loop);
    private static readonly MethodInfo Add32 = Atomic(nameof(Interlocked.Add), typeof(int));
    private static readonly MethodInfo Add64 = Atomic(nameof(Interlocked.Add), typeof(long));
    private static readonly MethodInfo Or32 = Atomic(nameof(Interlocked.Or), typeof(int));
    private static readonly MethodInfo Or64 = Atomic(nameof(Interlocked.Or), typeof(long));
    private static readonly MethodInfo And32 = Atomic(nameof(Interlocked.And), typeof(int));
    private static readonly MethodInfo And64 = Atomic(nameof(Interlocked.And), typeof(long));
    private static readonly MethodInfo Exchange32 = Atomic(nameof(Interlocked.Exchange), typeof(int));
    private static readonly MethodInfo Exchange64 = Atomic(nameof(Interlocked.Exchange), typeof(long));
    private static readonly MethodInfo CompareExchange32 = Of((CompareExchangeFunction)BpfRuntime.CompareExchange);
    private static readonly MethodInfo CompareExchange64 = Atomic(nameof(Interlocked.CompareExchange), typeof(long), 2);
    private static readonly MethodInfo Swap16 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(ushort)])!;
    private static readonly MethodInfo Swap32 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(uint)])!;
    private static readonly MethodInfo Swap64 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(ulong)])!;
    private static readonly Type[] HelperParameters = [typeof(BpfVm), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong)];

    private readonly BpfProgram program;
    /// <summary>The <see cref="BpfVm.ProcessorId"/> this code is for: get_smp_processor_id and per-CPU map slots are constants.</summary>
    private readonly int processorId;
    private readonly int[] knownMaps;
    private readonly List<object> constants = [];
    private readonly DecodedInsn* code;
    private readonly int length;
    private readonly DynamicMethod method;
    private readonly ILGenerator il;
    private readonly LocalBuilder[] r = new LocalBuilder[MAX_BPF_REG];
    private readonly LocalBuilder depth, address, scratch, status, frame, returnPc;
    private readonly Label[] labels;
    private readonly Label fault, save, exit, badEntry;
    private readonly bool[] entries;
    private readonly bool[] returnSites;
    private readonly bool[] proven;
    private int checkedAccesses;
    private readonly List<(Label Stub, int Pc, int Target)> backwardStubs = [];

    // Arguments of the emitted method.
    // Argument 0 is the object the delegate is closed over, the objects the code refers to (maps it calls directly):
    // a closed delegate also calls straight into the code, where an open static one goes through a thunk that
    // shifts every argument.
    private const short ArgConstants = 0, ArgVm = 1, ArgState = 2, ArgStartPc = 3, ArgEntryDepth = 4;

    /// <summary>Where the code finds its own <see cref="JitProgram"/>: constant 0, handed to bpf_loop so its callbacks run this code.</summary>
    private const int OwnerConstant = 0;

    public Emitter(JitProgram owner, int processorId)
    {
        program = owner.Program;
        this.processorId = processorId;
        constants.Add(owner);
        knownMaps = program.Verification.KnownMaps;
        proven = program.Verification.ProvenAccess;
        code = program.Code;
        length = program.Length;
        method = new DynamicMethod($"bpf_jit_{program.Name}", typeof(int),
            [typeof(object[]), typeof(BpfVm), typeof(ulong*), typeof(int), typeof(int)], typeof(Emitter).Module, skipVisibility: true);
        // Every local is written before it is read (registers come from the state), so no zeroing prologue.
        method.InitLocals = false;
        il = method.GetILGenerator();
        for (var i = 0; i < r.Length; i++)
            r[i] = il.DeclareLocal(typeof(ulong));
        depth = il.DeclareLocal(typeof(int));
        address = il.DeclareLocal(typeof(ulong));
        scratch = il.DeclareLocal(typeof(ulong));
        status = il.DeclareLocal(typeof(int));
        frame = il.DeclareLocal(typeof(BpfVm.CallFrame).MakeByRefType());
        returnPc = il.DeclareLocal(typeof(int));
        labels = new Label[length];
        for (var i = 0; i < length; i++)
            labels[i] = il.DefineLabel();
        fault = il.DefineLabel();
        save = il.DefineLabel();
        exit = il.DefineLabel();
        badEntry = il.DefineLabel();
        (entries, returnSites) = FindEntries();
    }

    public EmittedCode Compile()
    {
        EmitPrologue();
        for (var pc = 0; pc < length; pc++)
        {
            il.MarkLabel(labels[pc]);
            EmitInstruction(pc, code + pc);
        }
        // Running off the end cannot happen in a validated program; fault rather than run on.
        RaiseAndFault(FaultReason.InvalidInstruction, length);
        EmitBackwardStubs();
        EmitExit();
        EmitEpilogues();
        var body = method.CreateDelegate<JitBody>(constants.ToArray());
        Probe(body);
        return new EmittedCode(body, checkedAccesses);
    }

    /// <summary>Where code may be entered from outside: the start, the return site of every call, every function address (callbacks).</summary>
    private (bool[] Entries, bool[] ReturnSites) FindEntries()
    {
        var entry = new bool[length];
        var sites = new bool[length];
        for (var pc = 0; pc < length; pc++)
        {
            var i = code + pc;
            if (i->Code == (BPF_JMP | BPF_CALL) && i->Src == BPF_PSEUDO_CALL)
            {
                if ((ulong)i->Imm >= (ulong)length)
                    throw new NotSupportedException($"{program.Name}: insn {pc}: call target {i->Imm} is outside the program");
                if (pc + 1 < length)
                    entry[pc + 1] = sites[pc + 1] = true;
            }
            entry[pc] |= pc == 0 || program.IsFunctionAddress(pc);
        }
        return (entry, sites);
    }

    /// <summary>
    /// Calls the code once with <see cref="JitRuntime.Probe"/>, which returns at once: RyuJIT compiles a dynamic method
    /// on its first call, so IL it refuses is reported here, at compile time, and never on a packet.
    /// </summary>
    private void Probe(JitBody body)
    {
        try
        {
            body(null!, null, JitRuntime.Probe, 0);
        }
        catch (InvalidProgramException e)
        {
            throw new NotSupportedException($"{program.Name}: the JIT produced code the runtime refuses ({e.Message}); run it on the interpreter", e);
        }
    }

    /// <summary>
    /// Where the code starts: a run's first frame (<see cref="JitRuntime.Start"/>) takes only r1 and r2 from the state
    /// and sets the rest itself, as the interpreter starts a frame, so the common entry moves two values in, not
    /// twelve; any other entry (a callback, a tail call, a return into this program) takes every register from the
    /// state and starts at its pc.
    /// </summary>
    private void EmitPrologue()
    {
        var resume = il.DefineLabel();
        var start = il.DefineLabel();
        il.Emit(OpCodes.Ldarg, ArgStartPc);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Bge, resume);
        il.Emit(OpCodes.Ldarg, ArgStartPc);
        Ld32(JitRuntime.Start);
        il.Emit(OpCodes.Beq, start);
        Ld32(JitRuntime.Probe);
        il.Emit(OpCodes.Ret);

        il.MarkLabel(start);
        for (var i = 0; i < BPF_REG_FP; i++)
        {
            if (i is 1 or 2)
                LoadState(i);
            else
                Ld64(0);
            il.Emit(OpCodes.Stloc, r[i]);
        }
        Ld32(0);
        il.Emit(OpCodes.Stloc, depth);
        SetFramePointer();
        il.Emit(OpCodes.Br, length > 0 ? labels[0] : badEntry);

        il.MarkLabel(resume);
        for (var i = 0; i < r.Length; i++)
        {
            LoadState(i);
            il.Emit(OpCodes.Stloc, r[i]);
        }
        LoadState(JitRuntime.DepthSlot);
        il.Emit(OpCodes.Conv_I4);
        il.Emit(OpCodes.Stloc, depth);
        il.Emit(OpCodes.Ldarg, ArgStartPc);
        il.Emit(OpCodes.Brfalse, length > 0 ? labels[0] : badEntry);
        il.Emit(OpCodes.Ldarg, ArgStartPc);
        il.Emit(OpCodes.Switch, Table(entries));
        il.Emit(OpCodes.Br, badEntry);
    }

    private Label[] Table(bool[] which)
    {
        var table = new Label[length];
        for (var pc = 0; pc < length; pc++)
            table[pc] = which[pc] ? labels[pc] : badEntry;
        return table;
    }

    private void LoadState(int slot)
    {
        il.Emit(OpCodes.Ldarg, ArgState);
        il.Emit(OpCodes.Ldc_I4, slot * sizeof(ulong));
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Ldind_I8);
    }

    /// <summary>exit: return from the entry frame, or pop a call frame like the interpreter.</summary>
    private void EmitExit()
    {
        il.MarkLabel(exit);
        var pop = il.DefineLabel();
        var cross = il.DefineLabel();
        il.Emit(OpCodes.Ldloc, depth);
        il.Emit(OpCodes.Ldarg, ArgEntryDepth);
        il.Emit(OpCodes.Bne_Un, pop);
        LeaveExit();

        il.MarkLabel(pop);
        FrameAt();
        il.Emit(OpCodes.Ldloc, frame);
        il.Emit(OpCodes.Ldfld, FrameProgram);
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldfld, Running);
        il.Emit(OpCodes.Bne_Un, cross);
        for (var k = 0; k < 4; k++)
        {
            il.Emit(OpCodes.Ldloc, frame);
            il.Emit(OpCodes.Ldfld, FrameSaved[k]);
            il.Emit(OpCodes.Stloc, r[6 + k]);
        }
        il.Emit(OpCodes.Ldloc, frame);
        il.Emit(OpCodes.Ldfld, FrameReturnPc);
        il.Emit(OpCodes.Stloc, returnPc);
        il.Emit(OpCodes.Ldloc, depth);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Stloc, depth);
        SetFramePointer();
        il.Emit(OpCodes.Ldloc, returnPc);
        il.Emit(OpCodes.Switch, Table(returnSites));
        il.Emit(OpCodes.Br, badEntry);

        // The frame was pushed by another program (this code was entered by a tail call): the driver returns into it.
        il.MarkLabel(cross);
        Leave(JitStatus.Return);
    }

    private void EmitEpilogues()
    {
        il.MarkLabel(badEntry);
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldc_I4, (int)FaultReason.InvalidInstruction);
        il.Emit(OpCodes.Ldarg, ArgStartPc);
        il.Emit(OpCodes.Ldc_I8, 0L);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Call, RaiseFault);

        il.MarkLabel(fault);
        il.Emit(OpCodes.Ldc_I4, (int)JitStatus.Fault);
        il.Emit(OpCodes.Ret);

        il.MarkLabel(save);
        for (var i = 0; i < r.Length; i++)
        {
            StoreStateAddress(i);
            il.Emit(OpCodes.Ldloc, r[i]);
            il.Emit(OpCodes.Stind_I8);
        }
        StoreStateAddress(JitRuntime.DepthSlot);
        il.Emit(OpCodes.Ldloc, depth);
        il.Emit(OpCodes.Conv_I8);
        il.Emit(OpCodes.Stind_I8);
        il.Emit(OpCodes.Ldloc, status);
        il.Emit(OpCodes.Ret);
    }

    private void StoreStateAddress(int slot)
    {
        il.Emit(OpCodes.Ldarg, ArgState);
        il.Emit(OpCodes.Ldc_I4, slot * sizeof(ulong));
        il.Emit(OpCodes.Add);
    }

    /// <summary>Ends the run of the entry frame: only r0 is read after an exit, so only r0 is saved.</summary>
    private void LeaveExit()
    {
        il.Emit(OpCodes.Ldarg, ArgState);
        il.Emit(OpCodes.Ldloc, r[0]);
        il.Emit(OpCodes.Stind_I8);
        il.Emit(OpCodes.Ldc_I4, (int)JitStatus.Exit);
        il.Emit(OpCodes.Ret);
    }

    /// <summary>Saves the registers into the state and returns <paramref name="why"/> to the driver.</summary>
    private void Leave(JitStatus why)
    {
        il.Emit(OpCodes.Ldc_I4, (int)why);
        il.Emit(OpCodes.Stloc, status);
        il.Emit(OpCodes.Br, save);
    }

    private void RaiseAndFault(FaultReason reason, int pc)
    {
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldc_I4, (int)reason);
        il.Emit(OpCodes.Ldc_I4, pc);
        il.Emit(OpCodes.Ldc_I8, 0L);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Call, RaiseFault);
        il.Emit(OpCodes.Br, fault);
    }

    /// <summary>frame = ref vm.CallFrames[depth]</summary>
    private void FrameAt()
    {
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldfld, CallFrames);
        il.Emit(OpCodes.Ldloc, depth);
        il.Emit(OpCodes.Ldelema, typeof(BpfVm.CallFrame));
        il.Emit(OpCodes.Stloc, frame);
    }

    /// <summary>r10 = vm.StackBase + (depth + 1) * MAX_BPF_STACK, as BpfRuntime.FramePointer.</summary>
    private void SetFramePointer()
    {
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldfld, StackBase);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Ldloc, depth);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Ldc_I4, MAX_BPF_STACK);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Conv_I8);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, r[BPF_REG_FP]);
    }

    private void EmitBackwardStubs()
    {
        foreach (var (stub, pc, target) in backwardStubs)
        {
            il.MarkLabel(stub);
            EmitBudget(pc);
            il.Emit(OpCodes.Br, labels[target]);
        }
    }

    private void EmitBudget(int pc)
    {
        il.Emit(OpCodes.Ldarg, ArgVm);
        il.Emit(OpCodes.Ldc_I4, pc);
        il.Emit(OpCodes.Call, BackwardJump);
        il.Emit(OpCodes.Brfalse, fault);
    }

    private static FieldInfo Field(Type type, string name) =>
        type.GetField(name, Any) ?? throw new MissingFieldException(type.Name, name);

    private static MethodInfo Method(Type type, string name) =>
        type.GetMethod(name, Any) ?? throw new MissingMethodException(type.Name, name);

    private static MethodInfo Of(Delegate method) => method.Method;

    private delegate bool LoadFunction(BpfVm vm, ulong address, int pc, out ulong value);
    private delegate bool LoadPacketFunction(BpfVm vm, int size, long offset, out ulong value);
    private delegate T XorFunction<T>(ref T location, T operand);
    private delegate ulong CompareExchangeFunction(ref int location, int value, int comparand);
    private delegate ulong LoopFunction(BpfVm vm, JitProgram code, int pc, ulong count, ulong callback, ulong context, ulong flags, int depth);

    /// <summary>The overload of Interlocked.<paramref name="name"/> on a <c>ref</c> <paramref name="type"/> and <paramref name="operands"/> values.</summary>
    private static MethodInfo Atomic(string name, Type type, int operands = 1) =>
        typeof(Interlocked).GetMethod(name, [type.MakeByRefType(), .. Enumerable.Repeat(type, operands)])
        ?? throw new MissingMethodException(nameof(Interlocked), name);
}
