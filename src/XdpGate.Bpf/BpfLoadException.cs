namespace XdpGate.Bpf;

/// <summary>A program, object or map definition was refused; the message names what is wrong and where.</summary>
public class BpfLoadException : Exception
{
    public BpfLoadException(string message) : base(message) { }
    public BpfLoadException(string message, Exception inner) : base(message, inner) { }
}
