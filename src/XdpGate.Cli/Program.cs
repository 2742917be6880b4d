using XdpGate.Cli;

return CommandTable.Run(args, new CliIo(Console.In, Console.Out, Console.Error));
