using Granary.Cli;
using Spectre.Console;

return await GranaryCli.RunAsync(args, AnsiConsole.Console);
