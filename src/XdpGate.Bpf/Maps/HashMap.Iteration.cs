using XdpGate.Uapi;

namespace XdpGate.Bpf.Maps;

public sealed unsafe partial class HashMap
{
    /// <summary>
    /// htab_map_get_next_key: the next element in the key's chain, else the first element of a later bucket; the
    /// first key of the map when <paramref name="key"/> is empty or missing; -ENOENT after the last. Takes no lock.
    /// Under concurrent updates it neither blocks nor fails: keys present throughout an iteration are returned (a
    /// deleted current key restarts from the first, so delete the previous key after fetching the next, as bpftool
    /// does), and keys added or removed meanwhile may or may not be.
    /// </summary>
    public override int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        ThrowIfDisposed();
        if (!key.IsEmpty)
            CheckKeySize(key);
        if (nextKey.Length != keySize)
            throw new ArgumentException($"map '{Name}': next key buffer is {nextKey.Length} bytes, the map's key_size is {keySize}", nameof(nextKey));
        if (syscallWriteOnly)
            return -Errno.EPERM;
        fixed (byte* k = key)
        fixed (byte* next = nextKey)
        {
            // TryCopyKey waits out writers itself; a retry only finds the element again.
            var attempts = 0;
            int status;
            do
                status = TryGetNextKey(key.IsEmpty ? null : k, next, ref attempts);
            while (status == -Errno.EAGAIN);
            return status;
        }
    }

    /// <summary>One attempt; -EAGAIN when the element to copy from was being rewritten.</summary>
    private int TryGetNextKey(byte* key, byte* next, ref int attempts)
    {
        var bucket = 0u;
        if (key != null)
        {
            var hash = HashOf(key);
            var element = Find(key, hash);
            if (element >= 0)
            {
                var link = Volatile.Read(ref NextOf(Node(element)));
                if ((link & NullsBit) == 0)
                    return TryCopyKey((int)link, next, ref attempts) ? 0 : -Errno.EAGAIN;
                bucket = (hash & bucketMask) + 1;
            }
        }

        for (; bucket <= bucketMask; bucket++)
        {
            var link = Volatile.Read(ref buckets[bucket].Head);
            if ((link & NullsBit) == 0)
                return TryCopyKey((int)link, next, ref attempts) ? 0 : -Errno.EAGAIN;
        }
        return -Errno.ENOENT;
    }
}
