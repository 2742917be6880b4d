using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Maps;
using XdpGate.Bpf.Program;
using XdpGate.Bpf.Verifier.Checks;
using XdpGate.Bpf.Verifier.Transfer;
using XdpGate.Uapi;
using static XdpGate.Bpf.Isa.Opcodes;
using static XdpGate.Bpf.Helpers.bpf_func_id;

namespace XdpGate.Bpf.Verifier;

/// <summary>
/// The kernel's check_helper_call: the call checked against the helper's prototype (<see cref="HelperChecks"/>), then
/// what the checks depended on learned, and the call's effects on the state.
/// </summary>
internal sealed partial class Exploration
{
    private void HelperCall(int id)
    {
        // libbpf's fixup of the kernel's log: a reachable poisoned call is the relocation that could not be resolved.
        if (id == ProgramOptions.CorePoisonHelper && program.CorePoisons.TryGetValue(At.Pc, out var relocation))
            throw At.Refuse(VerifierRule.UnknownHelper, $"{relocation} (the instruction was poisoned as libbpf does: invalid func unknown#{id})");
        var call = HelperChecks.Call(At, id, program.Type);
        var proto = call.Prototype;
        var map = call.Map;
        // The arguments were read; the values the checks depended on are precise; stack memory given is read or filled.
        LearnRead((ushort)(((1 << proto.Args.Length) - 1) << 1));
        for (var i = 0; i < proto.Args.Length; i++)
        {
            var r = i + 1;
            var reg = cur.Regs[r];
            switch (proto.Args[i])
            {
                case ArgKind.ConstMapPtr:
                    findings.Map(pc, map!);
                    break;
                case ArgKind.MapKey:
                    StackArgument(reg, map!.KeySize, write: false);
                    break;
                case ArgKind.MapValue:
                case ArgKind.WriteMapValue:
                    StackArgument(reg, map!.ValueSize, proto.Writes(i));
                    break;
                case ArgKind.ConstSize:
                case ArgKind.ConstSizeOrZero:
                    // The size bounds the access: its value matters (the kernel marks it precise).
                    NeedPrecise(r);
                    var memory = cur.Regs[r - 1];
                    // That a memory argument is NULL, allowed for a size of 0, depends on its value too.
                    if (memory.IsConstScalar(0))
                        NeedPrecise(r - 1);
                    else
                        StackArgument(memory, (long)reg.Var.UMax, proto.Writes(i));
                    break;
                case ArgKind.ConstAllocSize:
                    NeedPrecise(r);
                    break;
            }
        }

        var fn = (bpf_func_id)id;
        if (fn == BPF_FUNC_loop)
        {
            LoopCall();
            return;
        }
        if (call.ReleaseRef != 0)
            Release(call.ReleaseRef);
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
            RetKind.AllocMemOrNull => Acquire(call.AllocSize),
            _ => Reg.Unknown,
        });
    }

    /// <summary>
    /// Stack memory a helper or a global function was given, <paramref name="size"/> bytes from <paramref name="reg"/>:
    /// the frame's depth noted, and the bytes read learned, or those written made unknown.
    /// </summary>
    private void StackArgument(in Reg reg, long size, bool write)
    {
        if (reg.Kind != RegKind.Stack || size == 0)
            return;
        var frame = cur.Frames[reg.Frame];
        var (low, high) = StackMemory.HelperRange(reg, size);
        NoteDepth(frame, (int)low);
        if (write)
            StackMemory.HelperWrite(frame, (int)low, (int)high);
        else
            MarkStackRead(reg.Frame, low, high);
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
        if (StackMemory.ReadsSpill(frame, index, keySize) && frame.Spills[index / 8] is { Kind: RegKind.Scalar, Var.IsConst: true } spilled)
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
