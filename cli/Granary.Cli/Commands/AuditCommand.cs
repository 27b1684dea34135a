using System.CommandLine;
using Granary.Audit;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary audit verify | tail</c>: checks the audit log's hash chain, or shows its newest records, reading the store
/// the repository names (<c>data/audit.db</c> embedded, the registry's PostgreSQL in a cluster).
/// </summary>
public sealed class AuditCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var command = new Command("audit", "Read the audit log: verify its hash chain, or tail its newest records");
        command.Subcommands.Add(Verify(context));
        command.Subcommands.Add(Tail(context));
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var command = new Command("verify", "Check every record's number and hash from the first; exit 1 naming the first broken record");
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var store = registry.AuditStore;
            await store.InitializeAsync(cancellationToken);
            var result = await AuditChain.VerifyAsync(store.ReadAllAsync(cancellationToken), cancellationToken);
            if (result.Ok)
            {
                context.Console.Line($"Audit log intact: {result.CheckedRecords} record(s), hash chain verified.");
                return 0;
            }
            context.Console.Error($"Audit log broken at record {result.BrokenSequence}: {result.Problem} ({result.CheckedRecords} record(s) before it verified).");
            return 1;
        }));
        return command;
    }

    private static Command Tail(CliContext context)
    {
        var principal = new Option<string?>("--principal") { Description = "Only records of this principal (exact name; 'anonymous' for unauthenticated requests)" };
        var objectName = new Option<string?>("--object") { Description = "Only records about this object (feature view, service, push source ... by name)" };
        var count = new Option<int>("-n") { Description = "How many of the newest matching records", DefaultValueFactory = _ => 20 };
        var command = new Command("tail", "Show the newest audit records, oldest first") { principal, objectName, count };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var n = parse.GetValue(count);
            if (n <= 0) throw new CliException($"-n {n} is not a positive number", "pass how many records to show, e.g. -n 50");
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var store = registry.AuditStore;
            await store.InitializeAsync(cancellationToken);
            var records = await store.TailAsync(new AuditQuery { Principal = parse.GetValue(principal), ObjectName = parse.GetValue(objectName), Limit = n }, cancellationToken);
            if (records.Count == 0)
            {
                context.Console.Line($"No audit records match.");
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "#", "Time (UTC)", "Principal", "Auth", "Action", "Object", "Route", "Address", "Result", "Status", "Detail" }) table.AddColumn(column);
            foreach (var r in records)
            {
                var e = r.Entry;
                var target = e.ObjectName.Length == 0 ? "" : $"{e.ObjectType} {e.ObjectName}";
                table.AddRow(CliConsole.Plain(r.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)), CliConsole.Plain(AuditChain.FormatTime(e.Time)),
                    CliConsole.Plain(e.Principal), CliConsole.Plain(e.AuthMethod), CliConsole.Plain(e.Action), CliConsole.Plain(target), CliConsole.Plain(e.Route),
                    CliConsole.Plain(e.Address), CliConsole.Plain(e.Result), CliConsole.Plain(e.Status), CliConsole.Plain(e.Detail));
            }
            context.Console.Write(table);
            return 0;
        }));
        return command;
    }
}
