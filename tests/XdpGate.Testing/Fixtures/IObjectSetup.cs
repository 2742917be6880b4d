using XdpGate.Bpf.Elf;

namespace XdpGate.Testing.Fixtures;

/// <summary>
/// What it takes to set an object up in one place (the running kernel or our engine): maps filled, programs loaded,
/// program-array slots set. Maps are referred to by their index in the object's map list, programs by name.
/// </summary>
public interface IObjectSetup
{
    /// <summary>Sets one element from user space (BPF_ANY); a per-CPU value has a slot per possible CPU.</summary>
    void Update(int map, byte[] key, byte[] value);

    /// <summary>BPF_MAP_FREEZE: user space can no longer write the map (libbpf freezes .rodata once written).</summary>
    void Freeze(int map);

    /// <summary>Loads a linked program of <paramref name="obj"/>.</summary>
    void Load(BpfObject obj, ObjectProgram program);

    /// <summary>Puts a loaded program in a program array's slot.</summary>
    void SetTailCall(int map, uint slot, string program);
}
