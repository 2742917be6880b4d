using System.Globalization;
using System.Text;
using XdpGate.Bpf.Execution;
using XdpGate.Uapi;

namespace XdpGate.Bpf.Helpers;

/// <summary>
/// bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): formats like the kernel (at most three arguments; %d %i %u %x
/// %X with l/ll, %p, %s, %c, %%) and hands the line to the VM's trace sink. A debugging aid: it allocates.
/// </summary>
internal static unsafe class TracePrintk
{
    public static ulong Call(BpfVm vm, ulong format, ulong formatSize, ulong a1, ulong a2, ulong a3)
    {
        if (formatSize == 0 || formatSize > 1024 || !HelperArguments.Memory(vm, format, (int)formatSize, write: false))
            return HelperArguments.Error(Errno.EINVAL);
        var text = new ReadOnlySpan<byte>((void*)format, (int)formatSize);
        if (text[^1] != 0)
            return HelperArguments.Error(Errno.EINVAL);
        var line = Format(vm, text[..text.IndexOf((byte)0)], [a1, a2, a3]);
        if (line is null)
            return HelperArguments.Error(Errno.EINVAL);
        vm.Trace?.Invoke(line);
        return (ulong)Encoding.UTF8.GetByteCount(line);
    }

    private static string? Format(BpfVm vm, ReadOnlySpan<byte> format, ReadOnlySpan<ulong> args)
    {
        var output = new StringBuilder();
        var next = 0;
        for (var i = 0; i < format.Length; i++)
        {
            var c = (char)format[i];
            if (c != '%')
            {
                output.Append(c);
                continue;
            }
            if (++i >= format.Length)
                return null;
            if (format[i] == '%')
            {
                output.Append('%');
                continue;
            }
            var longs = 0;
            while (i < format.Length && format[i] == 'l')
            {
                longs++;
                i++;
            }
            if (i >= format.Length || longs > 2 || next >= args.Length)
                return null;
            var value = args[next++];
            if (longs == 0)
                value = format[i] is (byte)'d' or (byte)'i' ? (ulong)(long)(int)value : (uint)value;
            var spec = (char)format[i];
            switch (spec)
            {
                case 'd' or 'i': output.Append(((long)value).ToString(CultureInfo.InvariantCulture)); break;
                case 'u': output.Append(value.ToString(CultureInfo.InvariantCulture)); break;
                case 'x': output.Append(value.ToString("x", CultureInfo.InvariantCulture)); break;
                case 'X': output.Append(value.ToString("X", CultureInfo.InvariantCulture)); break;
                case 'c': output.Append((char)(byte)value); break;
                case 'p': output.Append("0x").Append(args[next - 1].ToString("x", CultureInfo.InvariantCulture)); break;
                case 's':
                    if (ReadString(vm, args[next - 1]) is not { } s)
                        return null;
                    output.Append(s);
                    break;
                default:
                    return null;
            }
        }
        return output.ToString();
    }

    private static string? ReadString(BpfVm vm, ulong address)
    {
        var text = new StringBuilder();
        for (var n = 0; n < 64; n++)
        {
            if (!vm.CanAccess(address + (ulong)n, 1, write: false))
                return null;
            var b = *(byte*)(address + (ulong)n);
            if (b == 0)
                return text.ToString();
            text.Append((char)b);
        }
        return text.ToString();
    }
}
