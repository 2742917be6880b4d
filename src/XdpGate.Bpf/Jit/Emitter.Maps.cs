using System.Reflection;
using System.Reflection.Emit;
using XdpGate.Bpf.Helpers;
using XdpGate.Bpf.Maps;

namespace XdpGate.Bpf.Jit;

/// <summary>
/// Helper calls the code does itself, as the kernel's JIT does (map_gen_lookup, inlined get_smp_processor_id): the
/// processor id is a constant of the code compiled for it; a lookup in a map the verifier knows at the call site is
/// inlined for arrays (bounds check, then the address of that processor's slot) and a direct call into the map otherwise. The verifier
/// proved the key readable, so neither reads it through a check.
/// </summary>
internal sealed unsafe partial class Emitter
{
    private static readonly MethodInfo LookupElem = typeof(BpfMap).GetMethod(nameof(BpfMap.LookupElem))!;

    /// <summary>Emits the helper inline when it can; false leaves it to the helper table.</summary>
    private bool EmitInlineHelper(int pc, bpf_func_id helper)
    {
        switch (helper)
        {
            case bpf_func_id.BPF_FUNC_get_smp_processor_id:
                Ld64((uint)processorId);
                St(0);
                return true;
            case bpf_func_id.BPF_FUNC_map_lookup_elem when KnownMap(pc) is ArrayMap array:
                EmitArrayLookup(array);
                return true;
            case bpf_func_id.BPF_FUNC_map_lookup_elem when KnownMap(pc) is { } map:
                EmitDirectLookup(map);
                return true;
            default:
                return false;
        }
    }

    private BpfMap? KnownMap(int pc) => (uint)pc < (uint)knownMaps.Length && knownMaps[pc] >= 0 ? program.Maps[knownMaps[pc]] : null;

    /// <summary>r0 = key &lt; max_entries ? slots + key * element_size : 0, as ArrayMap.LookupElem.</summary>
    private void EmitArrayLookup(ArrayMap array)
    {
        var inRange = il.DefineLabel();
        var done = il.DefineLabel();
        Ld(2);
        il.Emit(OpCodes.Conv_U);
        il.Emit(OpCodes.Ldind_U4);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Stloc, scratch);
        il.Emit(OpCodes.Ldloc, scratch);
        Ld64(array.MaxEntries);
        il.Emit(OpCodes.Blt_Un, inRange);
        Ld64(0);
        St(0);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(inRange);
        Ld64((long)array.SlotBase(processorId));
        il.Emit(OpCodes.Ldloc, scratch);
        Ld64(array.ElementSize);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Add);
        St(0);
        il.MarkLabel(done);
    }

    /// <summary>r0 = map.LookupElem(key, processorId) on the map object itself (a sealed type, so the call is direct).</summary>
    private void EmitDirectLookup(BpfMap map)
    {
        il.Emit(OpCodes.Ldarg, ArgConstants);
        Ld32(constants.Count);
        il.Emit(OpCodes.Ldelem_Ref);
        il.Emit(OpCodes.Castclass, map.GetType());
        constants.Add(map);
        Ld(2);
        il.Emit(OpCodes.Conv_U);
        Ld32(processorId);
        il.Emit(OpCodes.Callvirt, LookupElem);
        il.Emit(OpCodes.Conv_U8);
        St(0);
    }
}
