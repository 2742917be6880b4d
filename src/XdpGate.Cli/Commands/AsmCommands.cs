using System.CommandLine;
using XdpGate.Bpf.Isa;

namespace XdpGate.Cli.Commands;

/// <summary>`xdpgate asm` and `xdpgate disasm`: between llvm-objdump's text syntax and bytecode.</summary>
internal static class AsmCommands
{
    public static Command BuildAssemble(CliIo io)
    {
        var file = new Argument<string>("FILE") { Description = "Assembly text (llvm-objdump syntax); - for stdin" };
        var output = new Option<string?>("-o", "--output") { Description = "Write raw bytecode to this file instead of hex to stdout" };
        var command = new Command("asm", "Assemble text into bytecode") { file, output };
        command.SetAction(parsed =>
        {
            var insns = Assembler.Assemble(ReadText(io, parsed.GetValue(file)!));
            var bytes = bpf_insn.ToBytes(insns);
            if (parsed.GetValue(output) is { } path)
            {
                File.WriteAllBytes(path, bytes);
                return ExitCode.Success;
            }
            for (var i = 0; i < bytes.Length; i += 8)
                io.Out.WriteLine(HexText.Format(bytes.AsSpan(i, 8)));
            return ExitCode.Success;
        });
        return command;
    }

    public static Command BuildDisassemble(CliIo io)
    {
        var file = new Argument<string>("FILE") { Description = "Bytecode, raw or as hex text; - for stdin" };
        var command = new Command("disasm", "Disassemble bytecode into text") { file };
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(file)!;
            var content = path == "-" ? System.Text.Encoding.Latin1.GetBytes(io.In.ReadToEnd()) : InputFiles.ReadBytes(path);
            var bytes = HexText.LooksLikeHex(content) ? HexText.Parse(System.Text.Encoding.Latin1.GetString(content), path) : content;
            io.Out.Write(Disassembler.FormatProgram(bpf_insn.FromBytes(bytes)));
            return ExitCode.Success;
        });
        return command;
    }

    private static string ReadText(CliIo io, string path) => path == "-" ? io.In.ReadToEnd() : File.ReadAllText(InputFiles.Require(path));
}
