using System.Runtime.CompilerServices;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

/// <summary>
/// A map shared by programs and the control plane. Programs use the pointer methods (no allocation, no exceptions,
/// kernel errno results); the control plane uses the span methods, which copy whole values so that a reader never
/// sees a value half-written by a concurrent update.
/// </summary>
/// <remarks>
/// Per-CPU maps keep one value slot per CPU (worker). From a program, lookups and updates touch the running CPU's
/// slot; from the control plane a value is all slots back to back, each rounded up to 8 bytes, as the kernel's
/// syscall interface lays them out.
/// </remarks>
public abstract unsafe class BpfMap : IDisposable
{
    protected BpfMap(MapDefinition definition, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentOutOfRangeException.ThrowIfLessThan(possibleCpus, 1);
        Definition = definition;
        PossibleCpus = possibleCpus;
    }

    public MapDefinition Definition { get; }
    public string Name => Definition.Name;
    public bpf_map_type Type => Definition.Type;
    public int KeySize => (int)Definition.KeySize;
    public int ValueSize => (int)Definition.ValueSize;
    public int MaxEntries => (int)Definition.MaxEntries;
    public int PossibleCpus { get; }

    /// <summary>Process-wide id, the user-space analogue of a map fd; <c>lddw rX, map_by_fd(id)</c> refers to it.</summary>
    /// <remarks>Assigned on first use, so a map whose constructor refused its definition never takes a slot.</remarks>
    public int Id
    {
        get
        {
            if (id == 0)
            {
                lock (registration)
                {
                    if (id == 0)
                        id = MapRegistry.Register(this);
                }
            }
            return id;
        }
    }

    private volatile int id;
    private int owners = 1;
    private readonly Lock registration = new();

    /// <summary>The opaque value a program holds in a register for this map (what the kernel's lddw pseudo-map gives).</summary>
    public ulong Handle => MapRegistry.HandleOf(Id);

    public virtual bool IsPerCpu => false;

    /// <summary>Bytes of one value as the control plane reads and writes it (all CPUs for per-CPU maps).</summary>
    public int UserValueSize => IsPerCpu ? RoundUp8(ValueSize) * PossibleCpus : ValueSize;

    /// <summary>Memory a program may read and write through pointers this map hands out; checked at run time.</summary>
    public abstract MemoryRegion ValueRegion { get; }

    // ---- program side: raw pointers, errno results, never throws ----

    /// <summary>bpf_map_lookup_elem: the value for <paramref name="key"/> (this CPU's slot for per-CPU maps) or null.</summary>
    public abstract byte* LookupElem(byte* key, int cpu);

    /// <summary>bpf_map_update_elem from a program: 0 or a negative errno.</summary>
    public abstract int UpdateElem(byte* key, byte* value, ulong flags, int cpu);

    /// <summary>bpf_map_delete_elem: 0 or a negative errno.</summary>
    public abstract int DeleteElem(byte* key);

    // ---- control-plane side: copies, errno results ----

    /// <summary>Copies the value (all CPU slots for per-CPU maps) into <paramref name="value"/>; 0 or -ENOENT.</summary>
    public abstract int Lookup(ReadOnlySpan<byte> key, Span<byte> value);

    /// <summary>
    /// Sets the value (all CPU slots for per-CPU maps); 0 or a negative errno (-EEXIST, -ENOENT, -E2BIG, -EINVAL,
    /// -EPERM once frozen).
    /// </summary>
    public int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = MapFlags.BPF_ANY)
    {
        if (!BeginWrite())
            return -Errno.EPERM;
        try
        {
            return UpdateValue(key, value, flags);
        }
        finally
        {
            Interlocked.Decrement(ref activeWrites);
        }
    }

    /// <summary>Removes the element; 0, -ENOENT, -EINVAL for maps whose elements cannot be deleted, -EPERM once frozen.</summary>
    public int Delete(ReadOnlySpan<byte> key)
    {
        if (!BeginWrite())
            return -Errno.EPERM;
        try
        {
            return DeleteValue(key);
        }
        finally
        {
            Interlocked.Decrement(ref activeWrites);
        }
    }

    protected abstract int UpdateValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags);

    protected abstract int DeleteValue(ReadOnlySpan<byte> key);

    /// <summary>
    /// Whether <see cref="Freeze"/> has run: control-plane writes fail from then on, so with BPF_F_RDONLY_PROG the
    /// contents never change again and the verifier may read them as constants (the kernel's bpf_map_is_rdonly).
    /// </summary>
    public bool IsFrozen => Volatile.Read(ref frozen) != 0;

    /// <summary>
    /// BPF_MAP_FREEZE: 0, -EPERM when already frozen (the kernel drops the write permission first), or -EBUSY while
    /// a control-plane write is running. Program-side writes are unaffected (BPF_F_RDONLY_PROG governs those).
    /// </summary>
    public int Freeze()
    {
        // Set the flag, then look for writers: a writer counts itself before it reads the flag, so with both steps
        // fenced either the writer sees the flag or Freeze sees the writer.
        lock (freezing)
        {
            if (Interlocked.Exchange(ref frozen, 1) != 0)
                return -Errno.EPERM;
            if (Volatile.Read(ref activeWrites) != 0)
            {
                Volatile.Write(ref frozen, 0);
                return -Errno.EBUSY;
            }
            return 0;
        }
    }

    /// <summary>
    /// The errno name of a control-plane result, saying why when the map is frozen (EPERM alone reads like a
    /// permission problem of the caller).
    /// </summary>
    public string ErrorText(int status) =>
        status == -Errno.EPERM && IsFrozen ? "EPERM (the map is frozen: read-only to the control plane)" : ErrnoText.Name(status);

    private bool BeginWrite()
    {
        Interlocked.Increment(ref activeWrites);
        if (Volatile.Read(ref frozen) == 0)
            return true;
        Interlocked.Decrement(ref activeWrites);
        return false;
    }

    private int frozen, activeWrites;
    private readonly Lock freezing = new();

    /// <summary>
    /// The key after <paramref name="key"/> in iteration order, or the first key when <paramref name="key"/> is empty
    /// or not in the map (as the kernel does); -ENOENT after the last.
    /// </summary>
    public abstract int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey);

    /// <summary>Every element as copied key/value pairs, in iteration order.</summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Dump()
    {
        var key = Array.Empty<byte>();
        var next = new byte[KeySize];
        while (GetNextKey(key, next) == 0)
        {
            var value = new byte[UserValueSize];
            key = (byte[])next.Clone();
            if (Lookup(key, value) == 0)
                yield return new(key, value);
        }
    }

    /// <summary>Checks the sizes of a control-plane call; throws naming the map and the wrong size.</summary>
    protected void CheckSizes(ReadOnlySpan<byte> key, int valueLength)
    {
        CheckKeySize(key);
        if (valueLength != UserValueSize)
            throw new ArgumentException($"map '{Name}': value is {valueLength} bytes, expected {UserValueSize}", "value");
    }

    protected void CheckKeySize(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
            throw new ArgumentException($"map '{Name}': key is {key.Length} bytes, the map's key_size is {KeySize}", nameof(key));
    }

    /// <summary>The update-flag rules shared by every map type: only BPF_ANY, BPF_NOEXIST or BPF_EXIST.</summary>
    protected static bool ValidUpdateFlags(ulong flags) => flags <= MapFlags.BPF_EXIST;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp8(int n) => (n + 7) & ~7;

    public override string ToString() => Definition.ToString();

    /// <summary>
    /// One more owner: a later load that keeps using this map (libbpf's map reuse). The map is freed when every
    /// owner has disposed it.
    /// </summary>
    public BpfMap AddOwner()
    {
        if (Interlocked.Increment(ref owners) <= 1)
            throw new ObjectDisposedException(ToString());
        return this;
    }

    protected virtual void Dispose(bool disposing)
    {
        if (id != 0)
            MapRegistry.Unregister(id);
    }

    public void Dispose()
    {
        if (Interlocked.Decrement(ref owners) != 0)
            return;
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
