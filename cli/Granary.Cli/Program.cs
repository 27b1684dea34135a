using Granary.Cli;

return await GranaryCli.RunAsync(args, CliConsole.ForProcess());
