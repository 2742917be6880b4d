using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Transfer;
using static XdpGate.Bpf.Isa.Opcodes;
using static XdpGate.Bpf.Helpers.bpf_func_id;

namespace XdpGate.Bpf.Verifier;

/// <summary>The kernel's check_helper_call: each argument against the helper's prototype, then the call's effects on the state.</summary>
internal sealed partial class Exploration
{
    private const string MemoryKinds = "fp, pkt, pkt_meta, map_key, map_value, mem";

    private void HelperCall(int id)
    {
        var proto = HelperPrototypes.Get(id);
        if (proto is null)
            throw Fail(VerifierRule.UnknownHelper, $"invalid func {HelperTable.Describe(id) ?? "unknown#" + id.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        if (proto.Provided && !HelperTable.IsAvailable(id, program.Type))
            throw Fail(VerifierRule.UnknownHelper, $"program of this type cannot use helper {proto.Name}#{id}");
        BpfMap? map = null;
        var allocSize = 0;
        var releaseRef = 0;
        for (var i = 0; i < proto.Args.Length; i++)
        {
            var r = i + 1;
            var reg = Read(r);
            switch (proto.Args[i])
            {
                case ArgKind.Anything:
                    if (reg.IsPointer && Strict)
                        throw Fail(VerifierRule.PointerLeak, $"R{r} leaks addr into helper function", r);
                    break;
                case ArgKind.ConstMapPtr:
                    if (reg.Kind != RegKind.MapPtr)
                        throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=map_ptr", r);
                    map = reg.Map!;
                    if (!HelperPrototypes.MapFits(map.Type, id))
                        throw Fail(VerifierRule.WrongMapType, $"cannot pass map_type {(int)map.Type} into func {proto.Name}#{id}", r);
                    findings.Map(pc, map);
                    break;
                case ArgKind.MapKey:
                    HelperMemory(r, reg, map!.KeySize, write: false);
                    break;
                case ArgKind.MapValue:
                case ArgKind.WriteMapValue:
                    HelperMemory(r, reg, map!.ValueSize, write: proto.Args[i] == ArgKind.WriteMapValue);
                    break;
                case ArgKind.ReadMem:
                case ArgKind.WriteMem:
                case ArgKind.ReadMemOrNull:
                    if (!(proto.Args[i] == ArgKind.ReadMemOrNull && reg.IsConstScalar(0)) && !IsMemory(reg.Kind))
                        throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected={MemoryKinds}", r);
                    break;
                case ArgKind.ConstSize:
                case ArgKind.ConstSizeOrZero:
                    HelperSize(r, reg, zeroAllowed: proto.Args[i] == ArgKind.ConstSizeOrZero, proto.Args[i - 1] == ArgKind.WriteMem);
                    break;
                case ArgKind.ConstAllocSize:
                    if (reg.Kind != RegKind.Scalar || !reg.Var.IsConst)
                        throw Fail(VerifierRule.HelperArgument, $"R{r} is not a known constant'", r);
                    NeedPrecise(r);
                    allocSize = (int)Math.Min(reg.Var.ConstValue, int.MaxValue);
                    break;
                case ArgKind.Ctx:
                    if (reg.Kind != RegKind.Ctx)
                        throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=ctx", r);
                    if (reg.Off != 0 || !reg.Var.IsConst)
                        throw Fail(VerifierRule.InvalidContextAccess, $"dereference of modified ctx ptr R{r} off={reg.Off} disallowed", r);
                    break;
                case ArgKind.ReleaseMem:
                    if (reg.Kind != RegKind.Mem || reg.RefId == 0)
                        throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=ringbuf_mem", r);
                    if (reg.Off != 0 || !reg.Var.IsConst)
                        throw Fail(VerifierRule.HelperArgument, $"R{r} must have zero offset when passed to release func", r);
                    releaseRef = reg.RefId;
                    break;
                case ArgKind.Func:
                    if (reg.Kind != RegKind.Func)
                        throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=func", r);
                    break;
                case ArgKind.StackOrNull:
                    if (reg.Kind != RegKind.Stack && !reg.IsConstScalar(0))
                        throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(reg.Kind)} expected=fp", r);
                    break;
            }
        }

        var fn = (bpf_func_id)id;
        if (fn == BPF_FUNC_tail_call && cur.References.Count > 0)
            throw Fail(VerifierRule.UnreleasedReference, "tail_call would lead to reference leak");
        if (fn == BPF_FUNC_loop)
        {
            LoopCall();
            return;
        }
        if (releaseRef != 0)
            Release(releaseRef);
        if (proto.ChangesPacket)
            InvalidatePacketPointers();
        // A lookup in an array at a constant key in range cannot fail (the kernel's get_constant_map_key).
        var inArray = fn == BPF_FUNC_map_lookup_elem && map!.Type is bpf_map_type.BPF_MAP_TYPE_ARRAY or bpf_map_type.BPF_MAP_TYPE_PERCPU_ARRAY
            && ConstantKey(cur.Regs[2], map.KeySize, map.MaxEntries);
        ClobberCallerSaved();
        pc++;
        Write(0, proto.Ret switch
        {
            RetKind.Void => Reg.NotInit,
            RetKind.MapValueOrNull when inArray => Reg.Pointer(RegKind.MapValue) with { Map = map },
            RetKind.MapValueOrNull => Reg.Pointer(RegKind.MapValueOrNull) with { Map = map, Id = NewId() },
            RetKind.AllocMemOrNull => Acquire(allocSize),
            _ => Reg.Unknown,
        });
    }

    private static bool IsMemory(RegKind kind) =>
        kind is RegKind.Stack or RegKind.Packet or RegKind.PacketMeta or RegKind.MapValue or RegKind.Mem;

    /// <summary>A helper's memory argument: its kind, and <paramref name="size"/> bytes from it accessible.</summary>
    private void HelperMemory(int r, Reg reg, long size, bool write)
    {
        if (!IsMemory(reg.Kind))
            throw Fail(reg.MaybeNull ? VerifierRule.PossiblyNullPointer : VerifierRule.HelperArgument,
                $"R{r} type={Reg.KindName(reg.Kind)} expected={MemoryKinds}", r);
        if (size == 0)
            return;
        switch (reg.Kind)
        {
            case RegKind.Stack:
            {
                var frame = cur.Frames[reg.Frame];
                var low = reg.Off + reg.Var.SMin;
                var high = reg.Off + (long)reg.Var.UMax + size;
                if (reg.Var.SMin < -AccessChecks.MaxVarOff || reg.Var.UMax > AccessChecks.MaxVarOff || low < -MAX_BPF_STACK || high > 0)
                    throw Fail(VerifierRule.HelperArgument, $"invalid {(write ? "write to" : "read from")} stack R{r} off={reg.Off} size={size}", r);
                NoteDepth(frame, (int)low);
                if (!write)
                    MarkStackRead(reg.Frame, low, high);
                if (write)
                    StackMemory.HelperWrite(frame, (int)low, (int)high);
                else
                    StackChecks.Readable(At, r, frame, MAX_BPF_STACK + (int)low, MAX_BPF_STACK + (int)high);
                break;
            }
            case RegKind.Packet:
            case RegKind.PacketMeta:
                AccessChecks.Packet(At, r, reg, 0, (int)size);
                break;
            default:
                AccessChecks.Region(At, r, reg, 0, (int)size, write);
                break;
        }
    }

    /// <summary>The kernel's check_mem_size_reg: a size argument with known bounds, then the memory before it checked for that many bytes.</summary>
    private void HelperSize(int r, Reg size, bool zeroAllowed, bool write)
    {
        if (size.Kind != RegKind.Scalar)
            throw Fail(VerifierRule.HelperArgument, $"R{r} type={Reg.KindName(size.Kind)} expected=scalar", r);
        var v = size.Var;
        if (v.SMin < 0)
            throw Fail(VerifierRule.HelperArgument, $"R{r} min value is negative, either use unsigned or 'var &= const'", r);
        if (v.UMin == 0 && !zeroAllowed)
            throw Fail(VerifierRule.HelperArgument, $"R{r} invalid zero-sized read: u64=[{v.UMin},{v.UMax}]", r);
        if (v.UMax >= AccessChecks.MaxVarOff)
            throw Fail(VerifierRule.HelperArgument, $"R{r} unbounded memory access, use 'var &= const' or 'if (var < const)'", r);
        // The size bounds the access: its value matters (the kernel marks it precise).
        NeedPrecise(r);
        var memory = cur.Regs[r - 1];
        if (memory.IsConstScalar(0))
        {
            // NULL is memory only for a size of 0 (check_helper_mem_access: a zero-byte read from NULL); that the
            // pointer is NULL depends on its value too.
            NeedPrecise(r - 1);
            if (v.UMax != 0)
                throw Fail(VerifierRule.HelperArgument, $"R{r - 1} type=scalar expected={MemoryKinds}", r - 1, r);
            return;
        }
        HelperMemory(r - 1, memory, (long)v.UMax, write);
    }

    /// <summary>
    /// Whether the map key on the stack is a known constant below <paramref name="maxEntries"/>; then the lookup's
    /// result depends on the key's bytes, which become precise.
    /// </summary>
    private bool ConstantKey(in Reg key, int keySize, int maxEntries)
    {
        if (key.Kind != RegKind.Stack || !key.Var.IsConst || keySize > 8)
            return false;
        var index = MAX_BPF_STACK + key.Off + (int)key.Var.ConstValue;
        var frame = cur.Frames[key.Frame];
        ulong value;
        // A spilled constant gives the key only where the spill covers all of it: narrower, the rest is other bytes.
        if (frame.Bytes[index] == SlotKind.Spill && index % 8 == 0 && StackMemory.SpillSize(frame, index / 8) >= keySize
            && frame.Spills[index / 8] is { Kind: RegKind.Scalar, Var.IsConst: true } spilled)
        {
            value = keySize == 8 ? spilled.Var.ConstValue : spilled.Var.ConstValue & ((1UL << (keySize * 8)) - 1);
        }
        else
        {
            for (var i = index; i < index + keySize; i++)
            {
                if (frame.Bytes[i] != SlotKind.Zero)
                    return false;
            }
            value = 0;
        }
        if (value >= (ulong)maxEntries)
            return false;
        learning.MarkPrecise(cur, 0, StackMemory.SlotMask(index - MAX_BPF_STACK, index - MAX_BPF_STACK + keySize), key.Frame);
        return true;
    }

    private Reg Acquire(int size)
    {
        var id = NewId();
        cur.References.Add(id);
        return Reg.Pointer(RegKind.MemOrNull) with { MemSize = size, Id = id, RefId = id };
    }

    /// <summary>Submitting or discarding a record ends every copy of its pointer.</summary>
    private void Release(int refId)
    {
        cur.References.Remove(refId);
        var gone = Strict ? Reg.NotInit : Reg.Unknown;
        cur.ForEachReg(reg => reg.RefId == refId, (ref Reg reg) => reg = gone);
    }

    /// <summary>After a helper that moves packet data, no packet pointer may be used: they become numbers (the kernel's clear_all_pkt_pointers).</summary>
    private void InvalidatePacketPointers()
    {
        var gone = Strict ? Reg.NotInit : Reg.Unknown;
        cur.ForEachReg(reg => reg.Kind is RegKind.Packet or RegKind.PacketMeta or RegKind.PacketEnd, (ref Reg reg) => reg = gone);
    }

    /// <summary>
    /// bpf_loop: the call may return at once, or run the callback (r1 = the index, r2 = the context argument) and come back
    /// to this call to decide again; exploring both until the states at the call converge covers any number of runs.
    /// </summary>
    private void LoopCall()
    {
        var done = cur.Clone();
        var saved = cur;
        cur = done;
        ClobberCallerSaved();
        Write(0, Reg.Unknown);
        cur = saved;
        Push(done, pc + 1);
        cur.CallbackRuns++;
        var callbackArgs = new[] { Reg.Unknown, cur.Regs[3], Reg.NotInit, Reg.NotInit, Reg.NotInit };
        EnterFrame(cur.Regs[2].Off, callSite: pc, isCallback: true, args: callbackArgs);
    }
}
