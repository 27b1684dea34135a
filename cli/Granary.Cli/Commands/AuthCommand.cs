using System.CommandLine;
using Granary.Core.Security;
using Spectre.Console;

namespace Granary.Cli.Commands;

/// <summary>
/// <c>granary auth ...</c>: API keys in the repository's registry database (every gateway of a cluster reads the same
/// database, and a revoked key stops working on each of them within a second).
/// </summary>
public sealed class AuthCommand : ICliCommand
{
    /// <inheritdoc/>
    public Command Build(CliContext context)
    {
        var command = new Command("auth", "Manage API keys: create one (shown once), list them, revoke one");
        command.Subcommands.Add(CreateKey(context));
        command.Subcommands.Add(ListKeys(context));
        command.Subcommands.Add(RevokeKey(context));
        return command;
    }

    private static Command CreateKey(CliContext context)
    {
        var principal = new Option<string>("--principal") { Description = "Who the key stands for (a service or person), e.g. ranking-service", Required = true, HelpName = "name" };
        var roles = new Option<string>("--roles") { Description = "Its roles, comma-separated, as permissions name them in policy: {roles: [...]}", Required = true, HelpName = "r1,r2" };
        var command = new Command("create-key", "Create an API key and print it once; only a salted hash is stored") { principal, roles };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var name = parse.GetValue(principal)!.Trim();
            if (!ApiKeys.IsValidName(name))
                throw new CliException($"--principal '{name}' is not a usable name", "use letters, digits, '_', '-', '.' or '@' (at most 128 characters)");
            var roleList = parse.GetValue(roles)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
            if (roleList.Length == 0) throw new CliException("--roles names no role", "give at least one, e.g. --roles reader");
            foreach (var role in roleList.Where(r => !ApiKeys.IsValidName(r)))
                throw new CliException($"--roles: '{role}' is not a usable role name", "use letters, digits, '_', '-', '.' or '@'");
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var (key, record) = ApiKeys.Create(name, roleList, DateTimeOffset.UtcNow);
            await registry.ApiKeys.AddApiKeyAsync(record, cancellationToken);
            context.Console.Line($"Created API key [green]{record.Id}[/] for principal [green]{name}[/] with roles {string.Join(", ", roleList)}.");
            context.Console.Line($"The key (shown only now; store it as a secret, e.g. export GRANARY_API_KEY=...):");
            context.Console.Raw(key + Environment.NewLine);
            return 0;
        }));
        return command;
    }

    private static Command ListKeys(CliContext context)
    {
        var command = new Command("list-keys", "List the API keys: id, principal, roles, created, revoked (never the key)");
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var keys = await registry.ApiKeys.ListApiKeysAsync(cancellationToken);
            if (keys.Count == 0)
            {
                context.Console.Line($"No API keys yet; create one with 'granary auth create-key --principal <name> --roles <r1,r2>'.");
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "Id", "Principal", "Roles", "Created (UTC)", "Revoked (UTC)" }) table.AddColumn(column);
            foreach (var key in keys)
                table.AddRow(CliConsole.Plain(key.Id), CliConsole.Plain(key.Principal), CliConsole.Plain(string.Join(", ", key.Roles)), CliConsole.Plain(Time(key.CreatedAt)),
                    CliConsole.Plain(key.RevokedAt is { } at ? Time(at) : "-"));
            context.Console.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command RevokeKey(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "The key's id (granary auth list-keys)" };
        var command = new Command("revoke-key", "Revoke an API key: it stops working on every gateway") { id };
        command.SetAction((parse, cancellationToken) => context.RunAsync(async () =>
        {
            var keyId = parse.GetValue(id)!.Trim();
            await using var registry = await context.OpenRegistryAsync(parse, cancellationToken);
            var existing = await registry.ApiKeys.GetApiKeyAsync(keyId, cancellationToken)
                ?? throw new CliException($"there is no API key '{keyId}'", "list the keys with 'granary auth list-keys'");
            if (existing.RevokedAt is { } at)
                throw new CliException($"API key '{keyId}' was revoked already, at {Time(at)} UTC");
            await registry.ApiKeys.RevokeApiKeyAsync(keyId, DateTimeOffset.UtcNow, cancellationToken);
            context.Console.Line($"Revoked API key [green]{keyId}[/] of principal {existing.Principal}.");
            return 0;
        }));
        return command;
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
}
