namespace XdpGate.Bpf.Program;

/// <summary>
/// Where an instruction came from in C, as a BTF line info record (<c>struct bpf_line_info</c>) says: the file, the
/// line and column (the kernel packs them as line &lt;&lt; 10 | column), and the text of that source line, which
/// clang stores in the object so that listings and fault reports need no source tree.
/// </summary>
public sealed record BpfLineInfo(int InstructionIndex, string File, int Line, int Column, string SourceLine)
{
    /// <summary><c>file.c:42:5</c>, the file without its directory (clang records the path as it was given).</summary>
    public string Location => Column > 0 ? $"{ShortFile}:{Line}:{Column}" : $"{ShortFile}:{Line}";

    private string ShortFile => File.Length == 0 ? "?" : Path.GetFileName(File);

    public override string ToString() => $"{InstructionIndex}: {Location}: {SourceLine.Trim()}";
}
